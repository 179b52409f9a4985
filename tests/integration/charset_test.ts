/**
 * A value with characters a latin1 column lacks (an emoji) is the client's bad input whether it
 * reaches the column as a view read's `where` (an illegal mix of collations, 1267/1270/1271) or as
 * a procedure's latin1 parameter (1366): both answer VALIDATION, not DB_ERROR.
 */
import assert from "node:assert/strict";
import type { RequestBody } from "../../src/client/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";
import { createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";

const RTY_TEMPLATE = `[template]
name = "rty"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.l1]
type = "string"
max_length = 40

[ops.read]
view = "v_rtys"
key = ["id"]
where = ["id", "l1"]
order = ["id"]

[ops.create]
procedure = "sp_rty_create"
params = ["l1"]
`;

const RTY_SQL = [
  "CREATE TABLE rtys (id INT AUTO_INCREMENT PRIMARY KEY, l1 VARCHAR(40) CHARACTER SET latin1 NOT NULL)",
  "CREATE VIEW v_rtys AS SELECT id, l1 FROM rtys",
  `CREATE PROCEDURE sp_rty_create(IN p_l1 VARCHAR(40) CHARACTER SET latin1)
   BEGIN INSERT INTO rtys (l1) VALUES (p_l1); SELECT id, l1 FROM v_rtys WHERE id = LAST_INSERT_ID(); END`,
  "INSERT INTO rtys (l1) VALUES ('café'), ('plain')",
];

const CANNOT_HOLD = "A value has characters that the column's character set (latin1) cannot hold";

Deno.test("a value a latin1 column cannot hold answers VALIDATION, in a where as in a parameter", async (t) => {
  const dir = await templatesWith(ROOT, { "rty_rec.toml": RTY_TEMPLATE });
  const env = await createTestEnv({ templatesDir: dir });
  for (const statement of RTY_SQL) await dbQuery(env, statement);
  const node = await startNode(env);
  try {
    const client = await env.client();
    const request = (body: Omit<RequestBody, "template">) => client.request({ template: "rty", ...body });

    await t.step("characters latin1 has match as any value", async () => {
      const rows = expectOk<Row[]>(await request({ op: "read", where: { l1: "café" } }));
      assert.deepEqual(rows, [{ id: 1, l1: "café" }]);
    });

    await t.step("one value (1267)", async () => {
      const error = expectError(await request({ op: "read", where: { l1: "😀" } }), "VALIDATION");
      assert.equal(error.message, CANNOT_HOLD);
      assert.deepEqual(error.details, { errno: 1267 });
    });

    await t.step("an IN list of two values (1270)", async () => {
      const error = expectError(await request({ op: "read", where: { l1: ["café", "😀"] } }), "VALIDATION");
      assert.equal(error.message, CANNOT_HOLD);
      assert.deepEqual(error.details, { errno: 1270 });
    });

    await t.step("an IN list of three values (1271)", async () => {
      const error = expectError(
        await request({ op: "read", where: { l1: ["café", "plain", "😀"] } }),
        "VALIDATION",
      );
      assert.equal(error.message, "A value has characters that the column's character set cannot hold");
      assert.deepEqual(error.details, { errno: 1271 });
    });

    await t.step("the same value to a latin1 parameter (1366)", async () => {
      const error = expectError(await request({ op: "create", data: { l1: "😀" } }), "VALIDATION");
      assert.deepEqual(error.details, { errno: 1366 });
      const [count] = await dbQuery<Array<{ n: number }>>(env, "SELECT COUNT(*) AS n FROM rtys");
      assert.equal(count?.n, 2);
    });

    await t.step("the node still serves the template", async () => {
      const rows = expectOk<Row[]>(await request({ op: "read", where: { l1: ["plain", "café"] } }));
      assert.deepEqual(rows.map((row) => row.id), [1, 2]);
    });
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
