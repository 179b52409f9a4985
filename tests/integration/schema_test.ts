import assert from "node:assert/strict";
import { loadLabSchema } from "../../lab/db.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";
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
