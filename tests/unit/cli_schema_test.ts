import assert from "node:assert/strict";
import { cli } from "../helpers/services.ts";

const SUP_FILE = new URL("../testdata/sup_rec.toml", import.meta.url).pathname;
const TEMPLATES_DIR = new URL("../../templates", import.meta.url).pathname;

async function withTemplates(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "beds_cli_schema_" });
  try {
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runCli() schema generate prints a template's DDL offline", async () => {
  await withTemplates({ "sup_rec.toml": await Deno.readTextFile(SUP_FILE) }, async (dir) => {
    const run = await cli(["schema", "generate", "sup", "--dir", dir]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^-- =+\n-- Template "sup": Suppliers\n/);
    assert.match(run.out, /\nCREATE OR REPLACE PROCEDURE `sp_sup_delete`\(/);
    assert.match(run.out, /\nDELIMITER ;\n/);
  });
});

Deno.test("runCli() schema generate --out writes the file and says what it holds", async () => {
  await withTemplates({ "sup_rec.toml": await Deno.readTextFile(SUP_FILE) }, async (dir) => {
    const run = await cli(["schema", "generate", "sup", "--dir", dir, "--out", `${dir}/sup.sql`]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, `wrote ${dir}/sup.sql: table suppliers, view v_suppliers, 3 procedure(s)`);
    assert.match(await Deno.readTextFile(`${dir}/sup.sql`), /^CREATE TABLE IF NOT EXISTS `suppliers` \($/m);
  });
});

Deno.test("runCli() schema generate refuses what it cannot generate", async (t) => {
  await t.step("an unknown template exits 1", async () => {
    const run = await cli(["schema", "generate", "zzz", "--dir", TEMPLATES_DIR]);
    assert.equal(run.code, 1);
    assert.equal(run.err, `beds: unknown template "zzz" in ${TEMPLATES_DIR}`);
  });
  await t.step("a REL template exits 15 (template problem)", async () => {
    const run = await cli(["schema", "generate", "cov", "--dir", TEMPLATES_DIR]);
    assert.equal(run.code, 15);
    assert.match(
      run.err,
      /^beds: Cannot generate DDL for template "cov" \(.*cov_rel\.toml\): template\.kind: is "rel"/,
    );
  });
  await t.step("a missing template name is a usage error", async () => {
    const run = await cli(["schema", "generate"]);
    assert.equal(run.code, 2);
    assert.match(run.err, /^beds: Usage: beds schema generate TEMPLATE/);
  });
});

Deno.test("runCli() templates validate prints one line per file and exits 15 if any is invalid", async (t) => {
  const good = await Deno.readTextFile(SUP_FILE);
  await t.step("all valid: exit 0", async () => {
    await withTemplates({ "sup_rec.toml": good }, async (dir) => {
      const run = await cli(["templates", "validate", dir]);
      assert.equal(run.code, 0, run.out);
      assert.equal(run.out, `ok    ${dir}/sup_rec.toml: sup (rec)\n1 template files valid in ${dir}`);
    });
  });
  await t.step("two bad files: both reported, exit 15", async () => {
    const files = {
      "a_bad.toml": good.replace('type = "boolean"', 'type = "bool"'),
      "b_ok.toml": good.replace('name = "sup"', 'name = "sub"'),
      "c_bad.toml": good.replace('view = "v_suppliers"', 'view = "v_suppliers"\ncolour = 1'),
    };
    await withTemplates(files, async (dir) => {
      const run = await cli(["templates", "validate", "--dir", dir]);
      assert.equal(run.code, 15);
      const lines = run.out.split("\n");
      assert.equal(lines.length, 4);
      assert.match(
        lines[0]!,
        new RegExp(`^FAIL  Invalid template "${dir}/a_bad\\.toml": fields\\.active\\.type: `),
      );
      assert.equal(lines[1], `ok    ${dir}/b_ok.toml: sub (rec)`);
      assert.equal(lines[2], `FAIL  Invalid template "${dir}/c_bad.toml": ops.read.colour: unknown key`);
      assert.equal(lines[3], `2 of 3 template files invalid in ${dir}`);
    });
  });
});

Deno.test("runCli() help lists schema generate and templates validate/verify", async () => {
  const run = await cli(["help"]);
  assert.match(run.out, /beds schema generate TEMPLATE \[--out FILE\] \[--dir DIR\]/);
  assert.match(run.out, /beds templates \(list \| show NAME \| validate \[DIR\] \| verify\) \[--dir DIR\]/);
});

Deno.test("beds schema generate --out, run as the beds task runs it (no write permission), says to redirect instead", async () => {
  const task = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).tasks
    .beds as string;
  const flags = task.split(" ").filter((word) => word.startsWith("--"));
  assert.ok(!flags.some((flag) => flag.startsWith("--allow-write")), task);
  const file = await Deno.makeTempFile({ prefix: "beds_ddl_" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...flags,
        "src/main.ts",
        "schema",
        "generate",
        "cus",
        "--dir",
        TEMPLATES_DIR,
        "--out",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 1, err);
    assert.match(err, new RegExp(`^beds: cannot write ${file}: `, "m"));
    assert.match(
      err,
      new RegExp(`^beds: print it instead and redirect: beds schema generate cus > ${file}$`, "m"),
    );
    assert.equal(await Deno.readTextFile(file), "", "nothing written");
  } finally {
    await Deno.remove(file);
  }
});
