import assert from "node:assert/strict";
import { verifyCollections } from "../../src/adapters/mongodb/verify.ts";
import { compileTemplate, type RecTemplate } from "../../src/templates/mod.ts";

function mongoTemplate(name: string, collection: string): RecTemplate {
  return compileTemplate(
    `tpl/${name}.toml`,
    `[template]
name = "${name}"
store = "mongodb"
database = "lab"
collection = "${collection}"

[fields.id]
type = "string"

[ops.read]
key = ["id"]
`,
  );
}

const MARIA = compileTemplate(
  "tpl/mar.toml",
  `[template]
name = "mar"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[ops.read]
view = "v_mar"
`,
);

Deno.test("verifyCollections() reports a missing collection and ignores other stores", async () => {
  const asked: string[] = [];
  const problems = await verifyCollections({
    templates: [mongoTemplate("aaa", "present"), mongoTemplate("bbb", "absent"), MARIA],
    databaseOf: (db) => db === "lab" ? "beds_t_1" : db,
    listCollections: (db) => {
      asked.push(db);
      return Promise.resolve(["present", "other"]);
    },
  });
  assert.deepEqual(asked, ["beds_t_1"], "one listCollections per database");
  assert.deepEqual(problems, [{
    template: "bbb",
    file: "tpl/bbb.toml",
    path: "template.collection",
    object: "beds_t_1.absent",
    message: 'collection "beds_t_1.absent" does not exist',
    severity: "error",
  }]);
});

Deno.test("verifyCollections() with drift warns about a key no unique index covers", async (t) => {
  const run = (indexes: string[][], drift = true) =>
    verifyCollections({
      templates: [mongoTemplate("aaa", "c")],
      databaseOf: (db) => db,
      listCollections: () => Promise.resolve(["c"]),
      uniqueIndexes: () => Promise.resolve(indexes),
      drift,
    });
  await t.step("only _id is unique: a warning", async () => {
    const problems = await run([["_id"]]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.severity, "warning");
    assert.equal(problems[0]!.message, 'collection "lab.c" has no unique index on id');
  });
  await t.step("a unique index on the key: nothing", async () => {
    assert.deepEqual(await run([["_id"], ["id"]]), []);
  });
  await t.step("without drift the indexes are not looked at", async () => {
    assert.deepEqual(await run([], false), []);
  });
});
