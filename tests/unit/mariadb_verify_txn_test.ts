import assert from "node:assert/strict";
import { transactionControl } from "../../src/adapters/mariadb/verify_txn.ts";

Deno.test("transactionControl() lists the statements that end a transaction in a routine body", async (t) => {
  const cases: Array<[string, string]> = [
    ["BEGIN INSERT INTO t VALUES (1); END", ""],
    ["BEGIN START  TRANSACTION; INSERT INTO t VALUES (1); COMMIT; END", "START TRANSACTION, COMMIT"],
    ["BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; END", "ROLLBACK"],
    ["BEGIN UPDATE t SET x = 1; commit; END", "COMMIT"],
    ["BEGIN SELECT 'COMMIT' AS s; END", ""],
    ["BEGIN -- we never COMMIT here\n SELECT commit_id FROM t; END", ""],
    ["BEGIN /* ROLLBACK */ SELECT `commit` FROM t; END", ""],
    ["BEGIN SAVEPOINT a; ROLLBACK TO SAVEPOINT a; END", ""],
  ];
  for (const [body, expected] of cases) {
    await t.step(JSON.stringify(body), () => assert.equal(transactionControl(body), expected));
  }
});
