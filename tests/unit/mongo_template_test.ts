import assert from "node:assert/strict";
import { compileTemplate, loadTemplates } from "../../src/templates/loader.ts";
import { TemplateError } from "../../src/errors.ts";

const MONGO_DIR = new URL("../testdata/mongo_templates", import.meta.url).pathname;

/** A small valid mongodb template; tests splice errors into it. */
const VALID = `[template]
name = "mtt"
store = "mongodb"
database = "lab"
collection = "things"

[fields.id]
type = "string"

[fields.name]
type = "string"
required = true

[fields.doc]
type = "json"

[ops.read]
key = ["id"]
where = ["id", "name"]
order = ["name"]

[ops.create]
params = ["id", "name", "doc"]
key = ["id"]

[ops.update]
params = ["id", "name", "doc"]
key = ["id"]

[ops.delete]
params = ["id"]
key = ["id"]
`;

function assertCompileError(text: string, message: string): void {
  assert.throws(() => compileTemplate("tpl/mtt.toml", text), (error: unknown) => {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("compileTemplate() compiles a mongodb template with its collection and no procedures", () => {
  const t = compileTemplate("tpl/mtt.toml", VALID);
  assert.equal(t.store, "mongodb");
  assert.equal(t.collection, "things");
  assert.deepEqual(t.ops.read, { key: ["id"], where: ["id", "name"], order: ["name"], params: [] });
  assert.deepEqual(t.ops.update, { params: ["id", "name", "doc"], key: ["id"] });
  assert.equal(t.calls.size, 0);
});

Deno.test("the example mongodb template in tests/testdata loads", async () => {
  const [t] = await loadTemplates(MONGO_DIR);
  assert.ok(t?.kind === "rec");
  assert.equal(t.name, "mcu");
  assert.equal(t.collection, "customers");
});

Deno.test("compileTemplate() rejects what mongodb cannot run, naming file and key", async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      "no collection",
      VALID.replace('collection = "things"\n', ""),
      "template.collection: missing required value (a mongodb template names its collection)",
    ],
    [
      "a read view",
      VALID.replace('key = ["id"]\nwhere', 'view = "v_things"\nkey = ["id"]\nwhere'),
      "ops.read.view: not supported on mongodb (a read filters the collection by key and where)",
    ],
    [
      "a read procedure",
      VALID.replace('key = ["id"]\nwhere', 'procedure = "sp_read"\nkey = ["id"]\nwhere'),
      "ops.read.procedure: not supported on mongodb (a read filters the collection by key and where)",
    ],
    [
      "read params",
      VALID.replace('order = ["name"]', 'order = ["name"]\nparams = ["name"]'),
      "ops.read.params: not supported on mongodb (use where)",
    ],
    [
      "a write procedure",
      VALID.replace(
        'params = ["id", "name", "doc"]\nkey = ["id"]\n\n[ops.update]',
        'procedure = "sp_c"\nparams = ["id", "name", "doc"]\nkey = ["id"]\n\n[ops.update]',
      ),
      "ops.create.procedure: not supported on mongodb (writes go to the template's collection)",
    ],
    [
      "an update without key",
      VALID.replace(
        'params = ["id", "name", "doc"]\nkey = ["id"]\n\n[ops.delete]',
        'params = ["id", "name", "doc"]\n\n[ops.delete]',
      ),
      "ops.update.key: missing required value (mongodb updates and deletes by key)",
    ],
    [
      "a named call",
      `${VALID}\n[calls.touch]\nprocedure = "sp_touch"\nparams = ["id"]\n`,
      "calls.touch: named calls are not supported on mongodb",
    ],
    [
      "a json field in where",
      VALID.replace('where = ["id", "name"]', 'where = ["id", "doc"]'),
      'ops.read.where.1: "doc" is a json field, which mongodb cannot filter on',
    ],
    [
      "a json field as an update key",
      VALID.replace(
        'params = ["id", "name", "doc"]\nkey = ["id"]\n\n[ops.delete]',
        'params = ["id", "name", "doc"]\nkey = ["doc"]\n\n[ops.delete]',
      ),
      'ops.update.key.0: "doc" is a json field, which mongodb cannot filter on',
    ],
    [
      "_id as a field (MongoDB's own identity)",
      VALID.replace("[fields.id]", '[fields._id]\ntype = "string"\n\n[fields.id]'),
      "fields._id: not allowed on mongodb (MongoDB's own identity; declare a key field of your own)",
    ],
    [
      "_id as a field and the key",
      VALID.replaceAll('"id"', '"_id"').replace("[fields.id]", "[fields._id]"),
      "fields._id: not allowed on mongodb (MongoDB's own identity; declare a key field of your own)",
    ],
    [
      "a bson type for a field of another type",
      VALID.replace('[fields.name]\ntype = "string"', '[fields.name]\ntype = "string"\nbson = "date"'),
      'fields.name.bson: "date" stores a field of type date or datetime, not string',
    ],
    [
      "a Decimal128 of more digits than it holds",
      VALID.replace(
        '[fields.id]\ntype = "string"',
        '[fields.id]\ntype = "string"\n\n[fields.amount]\ntype = "decimal"\nprecision = 40\nbson = "decimal128"',
      ),
      "fields.amount.precision: a Decimal128 holds at most 34 digits",
    ],
    [
      "a collection name with a dollar",
      VALID.replace('"things"', '"th$ings"'),
      "template.collection: expected a collection name of letters, digits, '_' or '-'",
    ],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => assertCompileError(text, `Invalid template "tpl/mtt.toml": ${message}`));
  }
});

Deno.test("compileTemplate() takes a bson type on mongodb only", () => {
  const withBson = VALID.replace(
    '[fields.id]\ntype = "string"',
    '[fields.id]\ntype = "string"\nbson = "objectId"',
  );
  assert.equal(compileTemplate("tpl/mtt.toml", withBson).fields.id!.bson, "objectId");
  const maria =
    `[template]\nname = "tst"\nstore = "mariadb"\ndatabase = "lab"\n\n[fields.id]\ntype = "string"\n` +
    `bson = "objectId"\n\n[ops.read]\nview = "v_tst"\nkey = ["id"]\n`;
  assertCompileError(
    maria,
    'Invalid template "tpl/mtt.toml": fields.id.bson: only a mongodb template stores BSON types',
  );
});

Deno.test("compileTemplate() keeps mariadb templates as they were", async (t) => {
  const maria = `[template]
name = "tst"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[ops.create]
procedure = "sp_tst_create"
params = ["id"]
`;
  await t.step("a write op still needs its procedure", () => {
    assert.throws(
      () => compileTemplate("tpl/tst.toml", maria.replace('procedure = "sp_tst_create"\n', "")),
      { message: 'Invalid template "tpl/tst.toml": ops.create.procedure: missing required value' },
    );
  });
  await t.step("a collection is not allowed", () => {
    assert.throws(
      () =>
        compileTemplate(
          "tpl/tst.toml",
          maria.replace('database = "lab"', 'database = "lab"\ncollection = "c"'),
        ),
      {
        message:
          'Invalid template "tpl/tst.toml": template.collection: only a mongodb template names a collection',
      },
    );
  });
  await t.step("a valid one has no collection key at all", () => {
    assert.ok(!("collection" in compileTemplate("tpl/tst.toml", maria)));
  });
});

Deno.test("loadTemplates() rejects a TXN template with a step on mongodb", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_mongo_txn_" });
  try {
    await Deno.writeTextFile(`${dir}/mtt_rec.toml`, VALID);
    await Deno.writeTextFile(
      `${dir}/mtx_txn.toml`,
      `[template]
name = "mtx"
kind = "txn"

[fields.name]
type = "string"

[input]
data = ["name"]

[[steps]]
name = "one"
template = "mtt"
op = "create"
data = { name = "$data.name" }
`,
    );
    await assert.rejects(() => loadTemplates(dir), {
      name: "TemplateError",
      message:
        `Invalid template "${dir}/mtx_txn.toml": steps.0.template: template "mtt" is on mongodb, which runs no transactions`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
