/**
 * A template whose field or call name breaks the name rule is refused with a message that states
 * the rule, for a name given as a table key (`[fields.createdAt]`) as for one in a list.
 */
import assert from "node:assert/strict";
import { compileAnyTemplate, compileTemplate, loadTemplates } from "../../src/templates/loader.ts";
import { TemplateError } from "../../src/errors.ts";

const VALID = `[template]
name = "tst"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[ops.read]
view = "v_tst"
key = ["id"]

[calls.touch]
procedure = "sp_tst_touch"
params = ["id"]
`;

const RULE = "snake_case (a-z, 0-9 and '_', not starting with a digit, at most 64 characters)";

function compileError(text: string): string {
  try {
    compileTemplate("tpl/tst.toml", text);
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${error}`);
    return error.message;
  }
  assert.fail("expected a TemplateError");
}

Deno.test("compileTemplate() states the name rule for a bad field or call name", async (t) => {
  await t.step("a camelCase field", () => {
    assert.equal(
      compileError(`${VALID}\n[fields.createdAt]\ntype = "datetime"\n`),
      `Invalid template "tpl/tst.toml": fields.createdAt: field names must be ${RULE}`,
    );
  });
  await t.step("an upper-case field", () => {
    assert.equal(
      compileError(`${VALID}\n[fields.I]\ntype = "int"\n`),
      `Invalid template "tpl/tst.toml": fields.I: field names must be ${RULE}`,
    );
  });
  await t.step("a field starting with a digit, and one of 65 characters", () => {
    for (const name of ["1st", "a".repeat(65)]) {
      assert.equal(
        compileError(`${VALID}\n[fields.${name}]\ntype = "int"\n`),
        `Invalid template "tpl/tst.toml": fields.${name}: field names must be ${RULE}`,
      );
    }
  });
  await t.step("an upper-case call", () => {
    assert.equal(
      compileError(`${VALID}\n[calls.X]\nprocedure = "sp_x"\n`),
      `Invalid template "tpl/tst.toml": calls.X: call names must be ${RULE}`,
    );
  });
  await t.step("a bad name in a list", () => {
    assert.equal(
      compileError(VALID.replace('key = ["id"]', 'key = ["Id"]')),
      `Invalid template "tpl/tst.toml": ops.read.key.0: expected a field name in ${RULE}`,
    );
  });
  await t.step("a field's own bad value still names its key", () => {
    assert.equal(
      compileError(VALID.replace('type = "int"', "type = 5")),
      'Invalid template "tpl/tst.toml": fields.id.type: Invalid option: expected one of ' +
        '"string"|"int"|"number"|"decimal"|"boolean"|"date"|"datetime"|"json"',
    );
  });
  await t.step("names of the rule compile, a leading '_' and 64 characters included", () => {
    const long = "a".repeat(64);
    const t = compileTemplate(
      "tpl/tst.toml",
      `${VALID}\n[fields._n2]\ntype = "int"\n\n[fields.${long}]\ntype = "int"\n`,
    );
    assert.deepEqual(Object.keys(t.fields), ["id", "_n2", long]);
  });
});

Deno.test("loadTemplates() names the file and the rule for a bad field name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_names_" });
  try {
    await Deno.writeTextFile(`${dir}/tst_rec.toml`, `${VALID}\n[fields.createdAt]\ntype = "datetime"\n`);
    await assert.rejects(() => loadTemplates(dir), (error: unknown) => {
      assert.ok(error instanceof TemplateError);
      assert.equal(
        error.message,
        `Invalid template "${dir}/tst_rec.toml": fields.createdAt: field names must be ${RULE}`,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("REL and TXN templates state the name rule for a bad part, field or value name", () => {
  const message = (text: string) => {
    try {
      compileAnyTemplate("tpl/x.toml", text);
    } catch (error) {
      assert.ok(error instanceof TemplateError);
      return error.message;
    }
    assert.fail("expected a TemplateError");
  };
  assert.equal(
    message(`[template]\nname = "x"\nkind = "rel"\n\n[parts.Bad]\ntemplate = "cus"\n`),
    `Invalid template "tpl/x.toml": parts.Bad: part names must be ${RULE}`,
  );
  assert.equal(
    message(
      `[template]\nname = "x"\nkind = "rel"\n\n[fields.badName]\ntype = "int"\n\n[parts.a]\ntemplate = "cus"\n`,
    ),
    `Invalid template "tpl/x.toml": fields.badName: field names must be ${RULE}`,
  );
  assert.equal(
    message(
      `[template]\nname = "x"\nkind = "txn"\n\n[[steps]]\nname = "s"\ntemplate = "cus"\nop = "create"\n` +
        `data = { Bad = "$data.x" }\n`,
    ),
    `Invalid template "tpl/x.toml": steps.0.data.Bad: field names must be ${RULE}`,
  );
});
