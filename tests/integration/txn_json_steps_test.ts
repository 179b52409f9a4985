/**
 * A JSON column one TXN step reads and the next one writes (`$steps.S.F`) keeps its numbers as
 * they are stored (12345678901234567890, 1e400: a double would change both), and a SQL NULL stays
 * SQL NULL when the receiving json field is nullable.
 */
import assert from "node:assert/strict";
import { createMariadbAdapter } from "../../src/adapters/mod.ts";
import { dispatch } from "../../src/dispatch/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { createRegistry, loadTemplates } from "../../src/templates/mod.ts";
import { createTestEnv, dbQuery } from "../helpers/services.ts";

const DOC = '{"a": 12345678901234567890, "big": 1e400, "list": [0.1, 9007199254740993]}';

const SQL = [
  "CREATE TABLE jsrc (id INT PRIMARY KEY, doc JSON NULL)",
  "CREATE TABLE jdst (id INT AUTO_INCREMENT PRIMARY KEY, src INT NOT NULL, doc JSON NULL)",
  `INSERT INTO jsrc VALUES (1, '${DOC}'), (2, NULL)`,
  "CREATE PROCEDURE sp_jsrc_get(IN p_id INT) BEGIN SELECT id, doc FROM jsrc WHERE id = p_id; END",
  `CREATE PROCEDURE sp_jdst_put(IN p_id INT, IN p_doc JSON)
   BEGIN INSERT INTO jdst (src, doc) VALUES (p_id, p_doc); SELECT LAST_INSERT_ID() AS id; END`,
];

const TEMPLATES = {
  "jsr_rec.toml": `[template]
name = "jsr"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[fields.doc]
type = "json"
nullable = true

[calls.get]
procedure = "sp_jsrc_get"
params = ["id"]

[calls.put]
procedure = "sp_jdst_put"
params = ["id", "doc"]
`,
  "jcp_txn.toml": `[template]
name = "jcp"
kind = "txn"

[fields.id]
type = "int"

[input]
data = ["id"]
required = ["id"]

[[steps]]
name = "read"
template = "jsr"
op = "call"
call = "get"
data = { id = "$data.id" }

[[steps]]
name = "write"
template = "jsr"
op = "call"
call = "put"
data = { id = "$steps.read.id", doc = "$steps.read.doc" }
`,
};

Deno.test("a JSON column passed from one TXN step to the next keeps its numbers, and SQL NULL", async () => {
  const env = await createTestEnv({ emptySchema: true });
  const dir = await Deno.makeTempDir({ prefix: "beds_txn_json_" });
  const adapter = createMariadbAdapter({ config: env.config.databases.mariadb!, logger: silentLogger() });
  try {
    for (const statement of SQL) await dbQuery(env, statement);
    for (const [name, text] of Object.entries(TEMPLATES)) await Deno.writeTextFile(`${dir}/${name}`, text);
    const registry = createRegistry(await loadTemplates(dir));
    await adapter.open();
    const deps = {
      registry: () => registry,
      adapters: new Map([["mariadb", adapter]]),
      limits: env.config.limits,
    };
    for (const id of [1, 2]) {
      await dispatch({ template: "jcp", op: "create", data: { id } }, new Set(["create"] as const), deps);
    }
    // As text: the test's driver would parse a JSON column into doubles.
    const rows = await dbQuery<Array<{ src: number; doc: string | null; same: number | null }>>(
      env,
      "SELECT d.src, CAST(d.doc AS CHAR) AS doc, JSON_EQUALS(d.doc, s.doc) AS same " +
        "FROM jdst d JOIN jsrc s ON s.id = d.src ORDER BY d.src",
    );
    assert.equal(rows.length, 2);
    const [copied, cleared] = rows as [(typeof rows)[0], (typeof rows)[0]];
    assert.match(copied.doc!, /"a":\s*12345678901234567890\b/);
    assert.match(copied.doc!, /"big":\s*1e400\b/);
    assert.match(copied.doc!, /9007199254740993\b/);
    assert.equal(Number(copied.same), 1, copied.doc!);
    // SQL NULL, not the JSON document null.
    assert.equal(cleared.doc, null);
    const nulls = await dbQuery<Array<{ n: number }>>(
      env,
      "SELECT COUNT(*) AS n FROM jdst WHERE doc IS NULL",
    );
    assert.equal(Number(nulls[0]!.n), 1);
  } finally {
    await adapter.close();
    await Deno.remove(dir, { recursive: true });
    await env.cleanup();
  }
});
