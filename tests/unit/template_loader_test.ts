import assert from "node:assert/strict";
import { compileTemplate, loadTemplates, recTemplates } from "../../src/templates/loader.ts";
import { createRegistry, createRegistryHolder } from "../../src/templates/registry.ts";
import { TemplateError } from "../../src/errors.ts";
import { validateTemplates } from "../../src/templates/validate.ts";

const TEMPLATES_DIR = new URL("../../templates", import.meta.url).pathname;

/** A small valid template; tests splice errors into it. */
const VALID = `[template]
name = "tst"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.name]
type = "string"
required = true

[ops.read]
view = "v_tst"
key = ["id"]
where = ["id", "name"]
order = ["id"]

[ops.create]
procedure = "sp_tst_create"
params = ["name"]

[calls.touch]
procedure = "sp_tst_touch"
params = ["id"]
required = ["id"]
`;

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${error}`);
    return error;
  }
  assert.fail("expected a TemplateError");
}

function assertCompileError(text: string, message: string): void {
  const error = templateError(() => compileTemplate("tpl/tst.toml", text));
  assert.equal(error.message, message);
}

Deno.test("compileTemplate() compiles a valid template with defaults and checks", () => {
  const t = compileTemplate("tpl/tst.toml", VALID);
  assert.equal(t.name, "tst");
  assert.equal(t.description, "");
  assert.equal(t.store, "mariadb");
  assert.equal(t.database, "lab");
  assert.equal(t.file, "tpl/tst.toml");
  assert.deepEqual(Object.keys(t.fields), ["id", "name"]);
  assert.deepEqual(t.fields.id, { type: "int", min: 1, required: false, nullable: false });
  assert.deepEqual([...t.checks.keys()], ["id", "name"]);
  assert.equal(t.checks.get("id")!(5), 5);
  assert.deepEqual(t.ops.read, {
    view: "v_tst",
    key: ["id"],
    where: ["id", "name"],
    order: ["id"],
    params: [],
  });
  assert.deepEqual(t.ops.create, { procedure: "sp_tst_create", params: ["name"] });
  assert.equal(t.ops.update, undefined);
  assert.deepEqual([...t.calls.keys()], ["touch"]);
  assert.ok(Object.isFrozen(t));
});

Deno.test("compileTemplate() names the file and key path of an unknown key", async (t) => {
  await t.step("top level", () => {
    assertCompileError(`bogus = 1\n${VALID}`, 'Invalid template "tpl/tst.toml": bogus: unknown key');
  });
  await t.step("in a field", () => {
    assertCompileError(
      VALID.replace('type = "int"\n', 'type = "int"\nmaxlen = 3\n'),
      'Invalid template "tpl/tst.toml": fields.id.maxlen: unknown key',
    );
  });
  await t.step("in an op", () => {
    assertCompileError(
      VALID.replace('view = "v_tst"\n', 'view = "v_tst"\ntable = "t"\n'),
      'Invalid template "tpl/tst.toml": ops.read.table: unknown key',
    );
  });
  await t.step("an unknown op", () => {
    assertCompileError(
      `${VALID}\n[ops.upsert]\nprocedure = "sp"\n`,
      'Invalid template "tpl/tst.toml": ops.upsert: unknown key',
    );
  });
});

Deno.test("compileTemplate() names the file and key path of a value of the wrong type", async (t) => {
  await t.step("a number where a string is expected", () => {
    assertCompileError(
      VALID.replace('view = "v_tst"', "view = 5"),
      'Invalid template "tpl/tst.toml": ops.read.view: Invalid input: expected string, received number',
    );
  });
  await t.step("an unknown field type", () => {
    assertCompileError(
      VALID.replace('type = "int"', 'type = "integer"'),
      'Invalid template "tpl/tst.toml": fields.id.type: Invalid option: expected one of ' +
        '"string"|"int"|"number"|"decimal"|"boolean"|"date"|"datetime"|"json"',
    );
  });
  await t.step("a missing required value", () => {
    assertCompileError(
      VALID.replace('database = "lab"\n', ""),
      'Invalid template "tpl/tst.toml": template.database: missing required value',
    );
  });
});

Deno.test("compileTemplate() reports invalid TOML with its line and column", () => {
  assertCompileError(
    VALID.replace('database = "lab"', "database = = lab"),
    'Invalid template "tpl/tst.toml": line 4, column 12: Invalid TOML document: invalid value',
  );
});

Deno.test("compileTemplate() rejects a name that is not a declared field", async (t) => {
  await t.step("in create params", () => {
    assertCompileError(
      VALID.replace('params = ["name"]', 'params = ["name", "nick"]'),
      'Invalid template "tpl/tst.toml": ops.create.params.1: "nick" is not a declared field',
    );
  });
  await t.step("in read where", () => {
    assertCompileError(
      VALID.replace('where = ["id", "name"]', 'where = ["status"]'),
      'Invalid template "tpl/tst.toml": ops.read.where.0: "status" is not a declared field',
    );
  });
  await t.step("in call params", () => {
    assertCompileError(
      VALID.replace('params = ["id"]\nrequired', 'params = ["uid"]\nrequired'),
      'Invalid template "tpl/tst.toml": calls.touch.params.0: "uid" is not a declared field',
    );
  });
  await t.step("a name inherited from Object.prototype is not a declared field", () => {
    assertCompileError(
      VALID.replace('params = ["name"]', 'params = ["constructor"]'),
      'Invalid template "tpl/tst.toml": ops.create.params.0: "constructor" is not a declared field',
    );
    assertCompileError(
      VALID.replace('where = ["id", "name"]', 'where = ["id", "constructor"]'),
      'Invalid template "tpl/tst.toml": ops.read.where.1: "constructor" is not a declared field',
    );
  });
  await t.step("a required field that is not one of the op's params", () => {
    assertCompileError(
      VALID.replace('params = ["name"]', 'params = ["name"]\nrequired = ["id"]'),
      'Invalid template "tpl/tst.toml": ops.create.required.0: "id" is not one of the op\'s params',
    );
  });
});

Deno.test("compileTemplate() requires exactly one of view or procedure on read", async (t) => {
  await t.step("both", () => {
    assertCompileError(
      VALID.replace('view = "v_tst"', 'view = "v_tst"\nprocedure = "sp_tst_read"'),
      'Invalid template "tpl/tst.toml": ops.read: set exactly one of "view" or "procedure"',
    );
  });
  await t.step("neither", () => {
    assertCompileError(
      VALID.replace('view = "v_tst"\n', ""),
      'Invalid template "tpl/tst.toml": ops.read: set exactly one of "view" or "procedure"',
    );
  });
  await t.step("a view read takes no params", () => {
    assertCompileError(
      VALID.replace('view = "v_tst"', 'view = "v_tst"\nparams = ["id"]'),
      'Invalid template "tpl/tst.toml": ops.read.params: a view read takes no params',
    );
  });
});

Deno.test("compileTemplate() requires exactly one of procedure or function on a call", async (t) => {
  await t.step("neither", () => {
    assertCompileError(
      VALID.replace('procedure = "sp_tst_touch"\n', ""),
      'Invalid template "tpl/tst.toml": calls.touch: set exactly one of "procedure" or "function"',
    );
  });
  await t.step("both", () => {
    assertCompileError(
      VALID.replace('procedure = "sp_tst_touch"', 'procedure = "sp_tst_touch"\nfunction = "fn_tst"'),
      'Invalid template "tpl/tst.toml": calls.touch: set exactly one of "procedure" or "function"',
    );
  });
});

Deno.test("compileTemplate() rejects a bad regex pattern naming the field", () => {
  assertCompileError(
    VALID.replace("required = true\n\n[ops.read]", 'required = true\npattern = "(["\n\n[ops.read]'),
    'Invalid template "tpl/tst.toml": fields.name.pattern: Invalid regular expression: /([/u: ' +
      "Unterminated character class",
  );
});

/** Runs `fn` with a temp templates dir holding `files`, then removes it. */
async function withTemplatesDir(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "beds_templates_test_" });
  try {
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadTemplates() rejects a duplicate template name naming both files", async () => {
  await withTemplatesDir({ "a.toml": VALID, "b.toml": VALID }, async (dir) => {
    await assert.rejects(() => loadTemplates(dir), (error: unknown) => {
      assert.ok(error instanceof TemplateError);
      assert.equal(
        error.message,
        `Invalid template "${dir}/b.toml": template.name: "tst" is already defined in "${dir}/a.toml"`,
      );
      return true;
    });
  });
});

Deno.test("loadTemplates() reads only .toml files, sorted by file name", async () => {
  const other = VALID.replace('name = "tst"', 'name = "abc"');
  await withTemplatesDir(
    { "z.toml": other, "m.toml": VALID, "notes.md": "# not a template" },
    async (dir) => {
      const templates = await loadTemplates(dir);
      assert.deepEqual(templates.map((t) => t.name), ["tst", "abc"]);
      assert.deepEqual(templates.map((t) => t.file), [`${dir}/m.toml`, `${dir}/z.toml`]);
    },
  );
});

Deno.test("loadTemplates() names a missing directory", async () => {
  await assert.rejects(() => loadTemplates("/nonexistent/beds-templates"), (error: unknown) => {
    assert.ok(error instanceof TemplateError);
    assert.match(error.message, /^Cannot read templates directory "\/nonexistent\/beds-templates": /);
    return true;
  });
});

Deno.test("loadTemplates() loads the repository's templates/ (REC cus, ord, prd; REL cov, dsh; TXN cat)", async () => {
  const all = await loadTemplates(TEMPLATES_DIR);
  assert.deepEqual(all.map((t) => t.name).sort(), ["cat", "cov", "cus", "dsh", "ord", "prd"]);
  assert.deepEqual(all.filter((t) => t.kind === "txn").map((t) => t.name), ["cat"]);
  assert.deepEqual(all.filter((t) => t.kind === "rel").map((t) => t.name).sort(), ["cov", "dsh"]);
  const templates = recTemplates(all);
  const ord = templates.find((t) => t.name === "ord")!;
  assert.equal(ord.ops.update, undefined);
  assert.deepEqual([...ord.calls.keys()], ["cancel"]);
  const cus = templates.find((t) => t.name === "cus")!;
  assert.deepEqual([...cus.calls.keys()], ["orders", "order_total"]);
  assert.equal(cus.calls.get("order_total")!.function, "fn_cus_order_total");
});

Deno.test("createRegistry() and createRegistryHolder() serve and swap snapshots", async (t) => {
  const templates = await loadTemplates(TEMPLATES_DIR);
  const first = createRegistry(templates, 1000);
  await t.step("get() and a sorted list()", () => {
    assert.equal(first.get("cus")!.name, "cus");
    assert.equal(first.get("nope"), undefined);
    assert.deepEqual(first.list().map((t) => t.name), ["cat", "cov", "cus", "dsh", "ord", "prd"]);
    assert.equal(first.loadedAt, 1000);
    assert.ok(Object.isFrozen(first.list()));
  });
  await t.step("swap() replaces the current snapshot; the old one is unchanged", () => {
    const holder = createRegistryHolder(first);
    assert.equal(holder.current(), first);
    const inFlight = holder.current();
    const second = createRegistry(templates.filter((t) => t.name !== "ord"), 2000);
    holder.swap(second);
    assert.equal(holder.current(), second);
    assert.equal(holder.current().get("ord"), undefined);
    assert.equal(holder.current().loadedAt, 2000);
    assert.equal(inFlight.get("ord")!.name, "ord", "a request in flight keeps its snapshot");
  });
});

Deno.test("compileTemplate() rejects field constraints that contradict each other or the type", async (t) => {
  const field = (lines: string) => VALID.replace('type = "string"\nrequired = true', lines);
  const cases: Array<[string, string, string]> = [
    ["min above max", field('type = "int"\nmin = 10\nmax = 5'), "fields.name.min: must not exceed max"],
    [
      "min_length above max_length",
      field('type = "string"\nmin_length = 5\nmax_length = 2'),
      "fields.name.min_length: must not exceed max_length",
    ],
    [
      "a number enum on a string",
      field('type = "string"\nenum = ["a", 1]'),
      "fields.name.enum.1: 1 is not a string value",
    ],
    [
      "a string enum on an int",
      field('type = "int"\nenum = ["1"]'),
      'fields.name.enum.0: "1" is not a int value',
    ],
    [
      "a fraction in an int enum",
      field('type = "int"\nenum = [1, 1.5]'),
      "fields.name.enum.1: 1.5 is not a int value",
    ],
    [
      "max_length on an int",
      field('type = "int"\nmax_length = 3'),
      "fields.name.max_length: only a string field has it",
    ],
    ["min on a string", field('type = "string"\nmin = 1'), "fields.name.min: only a numeric field has it"],
    [
      "an enum on a boolean",
      field('type = "boolean"\nenum = [1]'),
      "fields.name.enum.0: 1 is not a boolean value",
    ],
  ];
  for (const [what, text, message] of cases) {
    await t.step(what, () => assertCompileError(text, `Invalid template "tpl/tst.toml": ${message}`));
  }
  await t.step("consistent constraints still compile", () => {
    compileTemplate("tpl/tst.toml", field('type = "int"\nmin = 1\nmax = 1\nenum = [1]'));
    compileTemplate("tpl/tst.toml", field('type = "string"\nmin_length = 2\nmax_length = 2\nenum = ["ab"]'));
  });
});

Deno.test("compileTemplate() rejects a procedure read whose key is not among its params", () => {
  assertCompileError(
    VALID.replace(
      'view = "v_tst"\nkey = ["id"]\nwhere = ["id", "name"]\norder = ["id"]',
      'procedure = "sp_tst_read"\nparams = ["name"]\nkey = ["id"]',
    ),
    `Invalid template "tpl/tst.toml": ops.read.key.0: "id" is not one of the op's params`,
  );
  compileTemplate(
    "tpl/tst.toml",
    VALID.replace(
      'view = "v_tst"\nkey = ["id"]\nwhere = ["id", "name"]\norder = ["id"]',
      'procedure = "sp_tst_read"\nparams = ["id"]\nkey = ["id"]',
    ),
  );
});

Deno.test("compileTemplate() refuses a json field in a view read's where or key (JSON text matches no stored value)", () => {
  const withDoc = VALID.replace("[ops.read]", '[fields.doc]\ntype = "json"\n\n[ops.read]');
  assertCompileError(
    withDoc.replace('where = ["id", "name"]', 'where = ["id", "doc"]'),
    `Invalid template "tpl/tst.toml": ops.read.where.1: "doc" is a json field, which a view read cannot match on`,
  );
  assertCompileError(
    withDoc.replace('key = ["id"]\nwhere', 'key = ["doc"]\nwhere'),
    `Invalid template "tpl/tst.toml": ops.read.key.0: "doc" is a json field, which a view read cannot match on`,
  );
  // A procedure read takes it as a parameter (its JSON text), which the procedure reads as it likes.
  compileTemplate(
    "tpl/tst.toml",
    withDoc.replace(
      'view = "v_tst"\nkey = ["id"]\nwhere = ["id", "name"]\norder = ["id"]',
      'procedure = "sp_tst_read"\nparams = ["doc"]',
    ),
  );
});

Deno.test("loadTemplates() reads template files that are symlinks, as a Kubernetes ConfigMap mounts them", async () => {
  const source = new URL("../../templates", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_links_" });
  try {
    let linked = 0;
    for await (const entry of Deno.readDir(source)) {
      if (!entry.isFile || !entry.name.endsWith(".toml")) continue;
      await Deno.symlink(`${source}/${entry.name}`, `${dir}/${entry.name}`);
      linked++;
    }
    assert.ok(linked > 0);
    await Deno.symlink(`${dir}/gone.toml.target`, `${dir}/gone.toml`); // leads nowhere: skipped
    const direct = await loadTemplates(source);
    const viaLinks = await loadTemplates(dir);
    assert.deepEqual(viaLinks.map((t) => t.name).sort(), direct.map((t) => t.name).sort());
    const validated = await validateTemplates(dir);
    assert.equal(validated.filter((v) => v.ok).length, linked);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
