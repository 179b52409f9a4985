/**
 * Generated DDL round-trips the edge values its template accepts, through a node: a datetime's
 * microseconds and emoji as keys and where values, and rows as wide as InnoDB's page holds (every
 * string of 40 bytes, which InnoDB keeps in the page). The unit side: tests/unit/ddl_edges_test.ts.
 */
import assert from "node:assert/strict";
import { loadLabSchema } from "../../lab/db.ts";
import { generateMariadbDdl } from "../../src/adapters/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";

/** A MariaDB REC template `name` of the given fields and ops (TOML). */
function template(name: string, body: string): string {
  return `[template]\nname = "${name}"\nstore = "mariadb"\ndatabase = "lab"\n${body}`;
}

/** Keyed by an emoji code and a datetime with microseconds. */
const KEYS_TEMPLATE = template(
  "edk",
  `[fields.code]\ntype = "string"\nmax_length = 8\n` +
    `[fields.at]\ntype = "datetime"\n` +
    `[fields.note]\ntype = "string"\nmax_length = 20\nnullable = true\n` +
    `[ops.read]\nview = "v_edge_keys"\nkey = ["code", "at"]\nwhere = ["code", "at"]\n` +
    `[ops.create]\nprocedure = "sp_edk_create"\nparams = ["code", "at", "note"]\n` +
    `[ops.update]\nprocedure = "sp_edk_update"\nparams = ["code", "at", "note"]\n`,
);

const STRINGS = Array.from({ length: 197 }, (_, i) => `s${i + 1}`);
const string = (f: string, decl = "") => `[fields.${f}]\ntype = "string"\nnullable = true\n${decl}`;

/** 4 (id) + 18 + 25 (NULL bits) + 197 × 41 + 1 (b) = 8125 bytes in the page, one short of InnoDB's limit. */
const WIDE_TEMPLATE = template(
  "wde",
  `[fields.id]\ntype = "int"\nmin = 1\n${STRINGS.map((f) => string(f, "max_length = 100\n")).join("")}` +
    `[fields.b]\ntype = "boolean"\n` +
    `[ops.read]\nview = "v_wides"\nkey = ["id"]\n` +
    `[ops.create]\nprocedure = "sp_wde_create"\nparams = ${JSON.stringify([...STRINGS, "b"])}\n`,
);

/** 18 + 402 (code, kept whole) + 24 (NULL bits) + 187 × 41 = 8111 bytes in the page. */
const KEYED_STRINGS = STRINGS.slice(0, 187);
const WIDE_KEY_TEMPLATE = template(
  "wdk",
  `[fields.code]\ntype = "string"\nmax_length = 100\n${KEYED_STRINGS.map((f) => string(f)).join("")}` +
    `[ops.read]\nview = "v_wide_keys"\nkey = ["code"]\n` +
    `[ops.create]\nprocedure = "sp_wdk_create"\nparams = ${JSON.stringify(["code", ...KEYED_STRINGS])}\n`,
);

const TEMPLATES = { edk: KEYS_TEMPLATE, wde: WIDE_TEMPLATE, wdk: WIDE_KEY_TEMPLATE };

/**
 * What the generator refuses: 200 strings of max_length 100 (the table loaded, and a row of 40-byte
 * values was DB_ERROR 1118), and an enum value MariaDB would store without its trailing space.
 */
const REFUSED = {
  zpv: template(
    "zpv",
    `[fields.id]\ntype = "int"\nmin = 1\n` +
      Array.from({ length: 200 }, (_, i) => string(`t${i + 1}`, "max_length = 100\n")).join("") +
      `[ops.read]\nview = "v_zpvs"\nkey = ["id"]\n`,
  ),
  spc: template(
    "spc",
    `[fields.id]\ntype = "int"\nmin = 1\n[fields.kind]\ntype = "string"\nenum = ["a ", "b"]\n` +
      `[ops.read]\nview = "v_spcs"\nkey = ["id"]\n`,
  ),
};

/** The repository's templates plus ours, and our generated DDL in a directory of its own. */
async function writeTemplates(): Promise<{ templatesDir: string; sqlDir: string }> {
  const templatesDir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  const sqlDir = await Deno.makeTempDir({ prefix: "beds_sql_" });
  for await (const entry of Deno.readDir(`${ROOT}/templates`)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      await Deno.copyFile(`${ROOT}/templates/${entry.name}`, `${templatesDir}/${entry.name}`);
    }
  }
  for (const [name, text] of Object.entries(TEMPLATES)) {
    await Deno.writeTextFile(`${templatesDir}/${name}_rec.toml`, text);
    const { sql } = generateMariadbDdl(compileTemplate(`${name}_rec.toml`, text));
    await Deno.writeTextFile(`${sqlDir}/010_${name}.sql`, sql);
  }
  return { templatesDir, sqlDir };
}

/** The row of `fields` each holding `value`. */
function every(fields: readonly string[], value: string): Row {
  return Object.fromEntries(fields.map((f) => [f, value]));
}

/** Whether inserting makes MariaDB answer "Row size too large" (1118). */
async function rowTooLarge(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return false;
  } catch (error) {
    if ((error as { errno?: number }).errno === 1118) return true;
    throw error;
  }
}

Deno.test("generated DDL round-trips microseconds, emoji and rows as wide as InnoDB's page", async (t) => {
  const { templatesDir, sqlDir } = await writeTemplates();
  const env = await createTestEnv({ templatesDir });
  // Apart from the node's templates: a template without its objects would keep the node from starting.
  const refusedDir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    assert.equal((await loadLabSchema({ schema: env.schema, dir: sqlDir })).statements, 10);
    node = await startNode(env, "appServer", "schema-edges-node");
    const client = await env.client();
    const at = "2024-01-01T10:00:00.123456Z";
    const edk = (request: Record<string, unknown>) =>
      client.request({ template: "edk", ...request } as never);

    await t.step("a datetime keeps its microseconds: read by the key it was created with", async () => {
      const apple = { code: "🍎", at, note: "apple" };
      assert.deepEqual(expectOk(await edk({ op: "create", data: apple })), apple);
      assert.deepEqual(expectOk(await edk({ op: "read", key: { code: "🍎", at } })), apple);
      const milli = await edk({ op: "read", key: { code: "🍎", at: "2024-01-01T10:00:00.123Z" } });
      expectError(milli, "NOT_FOUND");
    });

    await t.step("two emoji are two keys: neither found by nor conflicting with the other", async () => {
      expectError(await edk({ op: "read", key: { code: "🍏", at } }), "NOT_FOUND");
      const green = { code: "🍏", at, note: "green" };
      assert.deepEqual(expectOk(await edk({ op: "create", data: green })), green);
      expectOk(await edk({ op: "update", key: { code: "🍏", at }, data: { note: "pear?" } }));
      assert.equal(expectOk(await edk({ op: "read", key: { code: "🍎", at } })).note, "apple");
    });

    await t.step("an emoji in a where matches only itself; case and accents are still ignored", async () => {
      assert.deepEqual(expectOk<Row[]>(await edk({ op: "read", where: { code: "😀" } })), []);
      const byAt = expectOk<Row[]>(await edk({ op: "read", where: { at } }));
      assert.deepEqual(byAt.map((r) => r.code).sort(), ["🍎", "🍏"].sort());
      expectOk(await edk({ op: "create", data: { code: "Café", at } }));
      const cafe = expectOk<Row[]>(await edk({ op: "read", where: { code: "cafe" } }));
      assert.deepEqual(cafe.map((r) => r.code), ["Café"]);
    });

    await t.step(
      "every string at 40 bytes, the most InnoDB keeps in the page: stored and read back",
      async () => {
        for (const value of ["x".repeat(40), "😀".repeat(10), "y".repeat(41), "z".repeat(100)]) {
          const data = { ...every(STRINGS, value), b: true };
          const created = expectOk(await client.request({ template: "wde", op: "create", data } as never));
          assert.deepEqual(created, { ...data, id: created.id, b: 1 }, value);
        }
      },
    );

    await t.step("the server counts as the generator: one byte more (b SMALLINT) is refused", async () => {
      await dbQuery(env, "CREATE TABLE wides_over LIKE wides");
      await dbQuery(env, "ALTER TABLE wides_over MODIFY b SMALLINT NULL");
      const insert = (b: number) =>
        dbQuery(
          env,
          `INSERT INTO wides_over (${STRINGS.join(", ")}, b) VALUES (${
            STRINGS.map(() => "?").join(", ")
          }, ?)`,
          [...STRINGS.map(() => "x".repeat(40)), b],
        );
      assert.equal(await rowTooLarge(() => insert(1)), true);
    });

    await t.step("a 100-emoji key, kept whole in the page, and every other string at 40 bytes", async () => {
      const data = { code: "😀".repeat(100), ...every(KEYED_STRINGS, "x".repeat(40)) };
      assert.deepEqual(
        expectOk(await client.request({ template: "wdk", op: "create", data } as never)),
        data,
      );
      // One string column more is over the page, as the generator refuses it.
      await dbQuery(env, "CREATE TABLE wide_keys_over LIKE wide_keys");
      await dbQuery(env, "ALTER TABLE wide_keys_over ADD COLUMN extra TEXT NULL");
      const columns = ["code", ...KEYED_STRINGS, "extra"];
      const insert = () =>
        dbQuery(
          env,
          `INSERT INTO wide_keys_over (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ["😀".repeat(100), ...columns.slice(1).map(() => "x".repeat(40))],
        );
      assert.equal(await rowTooLarge(insert), true);
    });

    await t.step("schema generate refuses, naming what to change, what MariaDB would not hold", async () => {
      for (const [name, text] of Object.entries(REFUSED)) {
        await Deno.writeTextFile(`${refusedDir}/${name}_rec.toml`, text);
      }
      const zpv = await cli(["schema", "generate", "zpv", "--dir", refusedDir]);
      assert.notEqual(zpv.code, 0, zpv.out);
      assert.match(zpv.err, /fields: the row needs \d+ bytes, more than InnoDB's 8126-byte row in a page/);
      const spc = await cli(["schema", "generate", "spc", "--dir", refusedDir]);
      assert.notEqual(spc.code, 0, spc.out);
      assert.match(spc.err, /fields\.kind\.enum\.0: "a " of field "kind" ends with a space/);
    });
  } finally {
    if (node) assert.equal(await node.stop(), 0);
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
    await Deno.remove(sqlDir, { recursive: true });
    await Deno.remove(refusedDir, { recursive: true });
  }
});
