import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import { compileTemplate, validateTemplates } from "../../src/templates/mod.ts";

const TEMPLATES_DIR = new URL("../../templates", import.meta.url).pathname;

const REC = (name: string, extra = "") =>
  `[template]
name = "${name}"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
${extra}
[ops.read]
view = "v_${name}"
key = ["id"]
`;

const REL = `[template]
name = "rll"
kind = "rel"

[parts.a]
template = "bad"
key = { id = 1 }
`;

Deno.test("validateTemplates() reports every file's first error, not only the first file's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_validate_" });
  try {
    await Deno.writeTextFile(`${dir}/a_ok.toml`, REC("aaa"));
    await Deno.writeTextFile(`${dir}/b_bad.toml`, REC("bad", 'colour = "red"\n'));
    await Deno.writeTextFile(`${dir}/c_toml.toml`, "[template\nname = 1");
    await Deno.writeTextFile(`${dir}/d_dup.toml`, REC("aaa"));
    await Deno.writeTextFile(`${dir}/e_rel.toml`, REL);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a template");
    const results = await validateTemplates(dir);
    assert.deepEqual(results.map((r) => [r.file.slice(dir.length + 1), r.ok]), [
      ["a_ok.toml", true],
      ["b_bad.toml", false],
      ["c_toml.toml", false],
      ["d_dup.toml", false],
      ["e_rel.toml", false],
    ]);
    const errors = results.flatMap((r) => r.ok ? [] : [r.error]);
    assert.equal(errors[0], `Invalid template "${dir}/b_bad.toml": fields.id.colour: unknown key`);
    assert.match(errors[1]!, new RegExp(`^Invalid template "${dir}/c_toml\\.toml": line 1, column`));
    assert.equal(
      errors[2],
      `Invalid template "${dir}/d_dup.toml": template.name: "aaa" is already defined in "${dir}/a_ok.toml"`,
    );
    assert.equal(
      errors[3],
      `Invalid template "${dir}/e_rel.toml": parts.a.template: unknown REC template "bad"`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validateTemplates() passes the repository's templates", async () => {
  const results = await validateTemplates(TEMPLATES_DIR);
  assert.ok(results.length >= 6);
  assert.deepEqual(results.filter((r) => !r.ok), []);
});

Deno.test("validateTemplates() names a missing directory", async () => {
  await assert.rejects(() => validateTemplates("/nonexistent/beds"), TemplateError);
});

Deno.test("compileTemplate() checks decimal precision and scale", async (t) => {
  const compile = (decl: string) => () => compileTemplate("d.toml", REC("dec", `\n[fields.f]\n${decl}\n`));
  await t.step("accepts them on a decimal", () => {
    assert.equal(compile('type = "decimal"\nprecision = 10\nscale = 2')().fields.f!.scale, 2);
  });
  await t.step("rejects them on another type", () => {
    assert.throws(compile('type = "int"\nscale = 2'), {
      message: 'Invalid template "d.toml": fields.f.scale: only a decimal field has digits',
    });
  });
  await t.step("rejects a scale above the precision (the default scale is 4)", () => {
    assert.throws(compile('type = "decimal"\nprecision = 3'), {
      message: 'Invalid template "d.toml": fields.f.scale: must not exceed precision',
    });
  });
});
