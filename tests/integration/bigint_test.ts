/**
 * A BIGINT key past ±(2^53−1) round-trips through a node: replies give it as
 * the string of its digits, and a request may send it back so, for a key, a
 * `where` list or a procedure's parameter, matching its own row and not its
 * neighbour's (as a number, both would be the same double).
 */
import assert from "node:assert/strict";
import type { RequestBody } from "../../src/client/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";
import { createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";

const BIG_TEMPLATE = `[template]
name = "big"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.name]
type = "string"
max_length = 50

[ops.read]
view = "v_bigs"
key = ["id"]
where = ["id", "name"]
order = ["id"]

[ops.create]
procedure = "sp_big_create"
params = ["id", "name"]

[ops.update]
procedure = "sp_big_update"
params = ["id", "name"]
key = ["id"]

[ops.delete]
procedure = "sp_big_delete"
params = ["id"]
key = ["id"]
`;

const BIG_SQL = [
  "CREATE TABLE bigs (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
  "CREATE VIEW v_bigs AS SELECT id, name FROM bigs",
  `CREATE PROCEDURE sp_big_create(IN p_id BIGINT, IN p_name VARCHAR(50))
   BEGIN INSERT INTO bigs VALUES (p_id, p_name); SELECT id, name FROM v_bigs WHERE id = p_id; END`,
  `CREATE PROCEDURE sp_big_update(IN p_id BIGINT, IN p_name VARCHAR(50))
   BEGIN
     UPDATE bigs SET name = p_name WHERE id = p_id;
     IF ROW_COUNT() = 0 THEN SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'big not found'; END IF;
     SELECT id, name FROM v_bigs WHERE id = p_id;
   END`,
  `CREATE PROCEDURE sp_big_delete(IN p_id BIGINT)
   BEGIN
     DELETE FROM bigs WHERE id = p_id;
     IF ROW_COUNT() = 0 THEN SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'big not found'; END IF;
   END`,
];

/** 2^53 + 1: as a double it is 2^53, the neighbour's id. */
const BIG = "9007199254740993";
const NEIGHBOUR = "9007199254740992";

Deno.test("a BIGINT key past 2^53 round-trips as the string of its digits", async (t) => {
  const dir = await templatesWith(ROOT, { "big_rec.toml": BIG_TEMPLATE });
  const env = await createTestEnv({ templatesDir: dir });
  for (const statement of BIG_SQL) await dbQuery(env, statement);
  await dbQuery(env, `INSERT INTO bigs VALUES (${NEIGHBOUR}, 'neighbour')`);
  const node = await startNode(env);
  try {
    const client = await env.client();
    const request = (body: Omit<RequestBody, "template">) => client.request({ template: "big", ...body });

    await t.step("create takes the digits and the reply gives them back", async () => {
      assert.deepEqual(expectOk(await request({ op: "create", data: { id: BIG, name: "big" } })), {
        id: BIG,
        name: "big",
      });
      // Within ±(2^53−1) an id stays a number, both ways.
      assert.deepEqual(
        expectOk(await request({ op: "create", data: { id: 9007199254740991, name: "safe" } })),
        { id: 9007199254740991, name: "safe" },
      );
    });

    await t.step("read by key and by a where list match the row itself, not its neighbour", async () => {
      assert.deepEqual(expectOk(await request({ op: "read", key: { id: BIG } })), { id: BIG, name: "big" });
      assert.deepEqual(expectOk(await request({ op: "read", key: { id: NEIGHBOUR } })), {
        id: NEIGHBOUR,
        name: "neighbour",
      });
      const rows = expectOk<Row[]>(
        await request({ op: "read", where: { id: [BIG, 9007199254740991] }, order: ["id"] }),
      );
      assert.deepEqual(rows.map((row) => row.name), ["safe", "big"]);
    });

    await t.step("update and delete reach that row only", async () => {
      assert.deepEqual(
        expectOk(await request({ op: "update", key: { id: BIG }, data: { name: "bigger" } })),
        { id: BIG, name: "bigger" },
      );
      expectOk(await request({ op: "delete", key: { id: BIG } }));
      const missing = expectError(await request({ op: "read", key: { id: BIG } }), "NOT_FOUND");
      assert.deepEqual(missing.details, { key: { id: BIG } });
      const [neighbour] = await dbQuery<Array<{ name: string }>>(
        env,
        `SELECT name FROM bigs WHERE id = ${NEIGHBOUR}`,
      );
      assert.equal(neighbour?.name, "neighbour");
    });

    await t.step(
      "an integer that would round, or past BIGINT, or a small one as text, is VALIDATION",
      async () => {
        for (
          const id of [9007199254740993, "18446744073709551616", "42", "0042", "1e20", "-9223372036854775808"]
        ) {
          const error = expectError(await request({ op: "read", key: { id } }), "VALIDATION");
          assert.deepEqual(error.details, { field: "id" }, `${id}: ${error.message}`);
        }
      },
    );
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
