import assert from "node:assert/strict";
import { connectLabSchema, dropSchema, loadLabSchema } from "../../lab/db.ts";
import { generateMariadbDdl } from "../../src/adapters/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode, uniqueId } from "../helpers/services.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";

const SUP_TEMPLATE = `${ROOT}/tests/testdata/sup_rec.toml`;

/** The named call sup's template lists for the DBA to write by hand. */
const SUP_CALLS_SQL = `DELIMITER $$
CREATE OR REPLACE PROCEDURE sp_sup_best(IN p_rating INT UNSIGNED)
  READS SQL DATA
BEGIN
  SELECT id, name, email, rating, active, tier, credit
    FROM v_suppliers
   WHERE active AND rating >= p_rating
   ORDER BY rating DESC, id;
END$$
DELIMITER ;
`;

/** A templates directory holding the repository's templates plus sup. */
async function templatesWithSup(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  for await (const entry of Deno.readDir(`${ROOT}/templates`)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      await Deno.copyFile(`${ROOT}/templates/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  await Deno.copyFile(SUP_TEMPLATE, `${dir}/sup_rec.toml`);
  return dir;
}

Deno.test("a new domain round-trips: generated DDL loads, check passes and BEDS serves its CRUD", async (t) => {
  const templatesDir = await templatesWithSup();
  const sqlDir = await Deno.makeTempDir({ prefix: "beds_sql_" });
  const env = await createTestEnv({ templatesDir });
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    await t.step("check fails before the DBA has loaded sup's objects", async () => {
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 16, run.out + run.err);
      assert.match(run.out, /template "sup" .* view "beds_t_\w+\.v_suppliers" does not exist/);
    });

    await t.step(
      "schema generate writes the DDL, which loads twice (idempotent) with lab/db.ts",
      async () => {
        const run = await cli([
          "schema",
          "generate",
          "sup",
          "--dir",
          templatesDir,
          "--out",
          `${sqlDir}/010_sup.sql`,
        ]);
        assert.equal(run.code, 0, run.err);
        await Deno.writeTextFile(`${sqlDir}/020_sup_calls.sql`, SUP_CALLS_SQL);
        const first = await loadLabSchema({ schema: env.schema, dir: sqlDir });
        const again = await loadLabSchema({ schema: env.schema, dir: sqlDir });
        assert.equal(first.statements, 6);
        assert.equal(again.statements, 6);
      },
    );

    await t.step("beds check passes with the generated objects", async () => {
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, /check passed/);
    });

    await t.step("the table enforces the template's constraints itself", async () => {
      await assert.rejects(
        () => dbQuery(env, "CALL sp_sup_create('X', 'x@example.com', 9, TRUE, NULL, NULL)"),
        /CONSTRAINT `ck_suppliers_rating` failed/,
      );
      await assert.rejects(
        () => dbQuery(env, "CALL sp_sup_create(NULL, 'x@example.com', 1, TRUE, NULL, NULL)"),
        /sup name is required/,
      );
    });

    node = await startNode(env, "appServer", "schema-node");
    const client = await env.client();
    let created: Row = {};

    await t.step("create returns the new row from the view", async () => {
      const data = {
        name: "Acme Tools",
        email: "sales@acme.example",
        rating: 4,
        active: true,
        tier: "gold",
        credit: "1500.50",
      };
      created = expectOk(await client.request({ template: "sup", op: "create", data }));
      assert.equal(typeof created.id, "number");
      assert.deepEqual(created, { ...data, id: created.id, active: 1 });
    });

    await t.step("read by key and by where", async () => {
      assert.deepEqual(
        expectOk(await client.request({ template: "sup", op: "read", key: { id: created.id } })),
        created,
      );
      const rows = expectOk<Row[]>(
        await client.request({ template: "sup", op: "read", where: { tier: "gold" } }),
      );
      assert.deepEqual(rows, [created]);
    });

    await t.step("update changes only the fields sent", async () => {
      const updated = expectOk(
        await client.request({ template: "sup", op: "update", key: { id: created.id }, data: { rating: 5 } }),
      );
      assert.deepEqual(updated, { ...created, rating: 5 });
      created = updated;
    });

    await t.step("update of a missing id answers NOT_FOUND from SQLSTATE 45404", async () => {
      const error = expectError(
        await client.request({ template: "sup", op: "update", key: { id: 999999 }, data: { rating: 1 } }),
        "NOT_FOUND",
      );
      assert.equal(error.message, "sup not found");
    });

    await t.step("a bad enum value sent straight to the procedure is 45000", async () => {
      await assert.rejects(
        () => dbQuery(env, "CALL sp_sup_update(?, NULL, NULL, NULL, NULL, 'tin', NULL)", [created.id]),
        /invalid sup tier/,
      );
    });

    await t.step("the hand-written named call is served", async () => {
      const rows = expectOk<Row[]>(
        await client.request({ template: "sup", op: "call", call: "best", data: { rating: 5 } }),
      );
      assert.deepEqual(rows, [created]);
    });

    await t.step("delete returns the row, then read and delete answer NOT_FOUND", async () => {
      assert.deepEqual(
        expectOk(await client.request({ template: "sup", op: "delete", key: { id: created.id } })),
        created,
      );
      expectError(
        await client.request({ template: "sup", op: "read", key: { id: created.id } }),
        "NOT_FOUND",
      );
      expectError(
        await client.request({ template: "sup", op: "delete", key: { id: created.id } }),
        "NOT_FOUND",
      );
    });
  } finally {
    if (node) assert.equal(await node.stop(), 0);
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
    await Deno.remove(sqlDir, { recursive: true });
  }
});

/** A domain whose fields reach MariaDB's limits: epoch milliseconds, long and many strings, a natural key. */
const WIDE_TEMPLATE = `[template]
name = "evt"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.code]
type = "string"
required = true
max_length = 20

[fields.at_ms]
type = "int"
min = 1000000000000

[fields.offset_ms]
type = "int"
max = -3000000000

[fields.body]
type = "string"
max_length = 20000

${["a", "b", "c", "d", "e"].map((f) => `[fields.${f}]\ntype = "string"\nmax_length = 5000\n`).join("\n")}
[ops.read]
view = "v_events"
key = ["id"]
where = ["code", "at_ms", "at_ms", "a"]

[ops.create]
procedure = "sp_evt_create"
params = ["code", "at_ms", "offset_ms", "body", "a", "b", "c", "d", "e"]

[ops.update]
procedure = "sp_evt_update"
params = ["code", "at_ms", "body"]
key = ["code"]

[ops.delete]
procedure = "sp_evt_delete"
params = ["code"]
key = ["code"]
`;

Deno.test("generated DDL loads and holds values at MariaDB's limits", async (t) => {
  const schema = `beds_t_${uniqueId()}`;
  const dir = await Deno.makeTempDir({ prefix: "beds_sql_" });
  const { sql } = generateMariadbDdl(compileTemplate("evt_rec.toml", WIDE_TEMPLATE));
  await Deno.writeTextFile(`${dir}/010_evt.sql`, sql);
  try {
    await t.step(
      "the script loads: no VARCHAR beyond 16383 characters, the row within 65535 bytes",
      async () => {
        assert.equal((await loadLabSchema({ schema, dir })).statements, 5);
      },
    );
    const conn = await connectLabSchema({ schema });
    try {
      const create = (code: string, atMs: number) =>
        conn.query("CALL sp_evt_create(?, ?, ?, ?, ?, ?, ?, ?, ?)", [
          code,
          atMs,
          -3_600_000_000,
          "x".repeat(20000),
          ..."abcde".split("").map((f) => f.repeat(5000)),
        ]);
      await t.step("epoch milliseconds and a 20000-character body are stored as given", async () => {
        await create("E1", 1_700_000_000_000);
        const [row] = await conn.query("SELECT at_ms, offset_ms, CHAR_LENGTH(body) AS n FROM v_events");
        assert.deepEqual([row.at_ms, row.offset_ms, row.n].map(Number), [
          1_700_000_000_000,
          -3_600_000_000,
          20000,
        ]);
      });
      await t.step(
        "the update and delete key is unique: a second row with it is refused (1062)",
        async () => {
          await assert.rejects(() => create("E1", 1_700_000_000_001), (error: { errno?: number }) => {
            assert.equal(error.errno, 1062);
            return true;
          });
          await create("E2", 1_700_000_000_002);
          await conn.query("CALL sp_evt_update(?, ?, ?)", ["E1", 1_800_000_000_000, null]);
          const rows = await conn.query("SELECT code, at_ms FROM v_events ORDER BY code");
          assert.deepEqual(rows.map((r: Record<string, unknown>) => [r.code, Number(r.at_ms)]), [
            ["E1", 1_800_000_000_000],
            ["E2", 1_700_000_000_002],
          ]);
        },
      );
    } finally {
      await conn.end();
    }
  } finally {
    await dropSchema({ schema });
    await Deno.remove(dir, { recursive: true });
  }
});

/** A form of many short strings: each VARCHAR stays in InnoDB's page, together more than it holds. */
const FORM_FIELDS = Array.from({ length: 40 }, (_, i) => `f${String(i + 1).padStart(2, "0")}`);
const FORM_TEMPLATE = `[template]
name = "frm"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

${FORM_FIELDS.map((f) => `[fields.${f}]\ntype = "string"\nmax_length = 60\n`).join("\n")}
[ops.read]
view = "v_forms"
key = ["id"]
where = ["f40"]

[ops.create]
procedure = "sp_frm_create"
params = ${JSON.stringify(FORM_FIELDS)}
`;

/** A row one byte short of InnoDB's limit in a page, as the generator counts it: it keeps its VARCHARs. */
const EDGE_TEMPLATE = `[template]
name = "edg"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

${FORM_FIELDS.slice(0, 33).map((f) => `[fields.${f}]\ntype = "string"\nmax_length = 60\n`).join("\n")}
[fields.t]
type = "string"
max_length = 36

[ops.read]
view = "v_edges"
key = ["id"]
`;

Deno.test("generated DDL keeps a row of many short strings within InnoDB's page", async (t) => {
  const schema = `beds_t_${uniqueId()}`;
  const dir = await Deno.makeTempDir({ prefix: "beds_sql_" });
  await Deno.writeTextFile(
    `${dir}/010_frm.sql`,
    generateMariadbDdl(compileTemplate("frm_rec.toml", FORM_TEMPLATE)).sql,
  );
  const edge = generateMariadbDdl(compileTemplate("edg_rec.toml", EDGE_TEMPLATE)).sql;
  await Deno.writeTextFile(`${dir}/020_edg.sql`, edge);
  try {
    await t.step("the script loads (40 × VARCHAR(60) would be refused with error 1118)", async () => {
      assert.ok(!edge.includes(" TEXT "), edge);
      // The form's table, view and procedure; the edge's table and view, all VARCHARs: the server
      // counts the bytes as the generator does.
      assert.equal((await loadLabSchema({ schema, dir })).statements, 5);
    });
    const conn = await connectLabSchema({ schema });
    try {
      await t.step(
        "the longest strings became TEXT, the where field last, so it keeps its index",
        async () => {
          const columns: Row[] = await conn.query(
            "SELECT column_name AS name, data_type AS type FROM information_schema.columns " +
              "WHERE table_schema = ? AND table_name = 'forms' AND column_name LIKE 'f%'",
            [schema],
          );
          const text = columns.filter((c) => c.type === "text").map((c) => c.name);
          assert.ok(text.length > 0 && text.length < FORM_FIELDS.length, text.join());
          assert.ok(!text.includes("f40"), text.join());
          const [index] = await conn.query(
            "SELECT COUNT(*) AS n FROM information_schema.statistics " +
              "WHERE table_schema = ? AND table_name = 'forms' AND column_name = 'f40'",
            [schema],
          );
          assert.equal(Number(index.n), 1);
        },
      );
      await t.step("a row with every string at its max_length is stored and read back whole", async () => {
        const values = FORM_FIELDS.map((f) => f.repeat(20));
        const [[row]] = await conn.query(
          `CALL sp_frm_create(${FORM_FIELDS.map(() => "?").join(", ")})`,
          values,
        );
        assert.deepEqual(FORM_FIELDS.map((f) => row[f]), values);
      });
    } finally {
      await conn.end();
    }
  } finally {
    await dropSchema({ schema });
    await Deno.remove(dir, { recursive: true });
  }
});
