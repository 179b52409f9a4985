import assert from "node:assert/strict";
import { calledProcedures, transactionControl } from "../../src/adapters/mariadb/verify_txn.ts";

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
    // Statements that commit implicitly.
    ["BEGIN DELETE FROM t; TRUNCATE TABLE u; END", "TRUNCATE"],
    ["BEGIN SELECT TRUNCATE(x, 2) FROM t; END", ""],
    ["BEGIN CREATE TABLE IF NOT EXISTS t2 (x INT); END", "CREATE TABLE"],
    ["BEGIN create or replace  view v AS SELECT 1; END", "CREATE OR REPLACE VIEW"],
    ["BEGIN CREATE TEMPORARY TABLE tt (x INT); DROP TEMPORARY TABLE tt; END", ""],
    ["BEGIN ALTER TABLE t ADD COLUMN y INT; COMMIT; END", "ALTER TABLE, COMMIT"],
    ["BEGIN LOCK TABLES t WRITE; UNLOCK TABLES; END", "LOCK TABLES, UNLOCK TABLES"],
    ["BEGIN SET autocommit = 1; END", "SET AUTOCOMMIT = 1"],
    ["BEGIN SET autocommit = 0; END", ""],
    ["BEGIN SELECT id FROM t LOCK IN SHARE MODE; SELECT id FROM t FOR UPDATE; END", ""],
  ];
  for (const [body, expected] of cases) {
    await t.step(JSON.stringify(body), () => assert.equal(transactionControl(body), expected));
  }
});

Deno.test("calledProcedures() lists the procedures a body calls, qualified or not, not in strings or comments", () => {
  assert.deepEqual(
    calledProcedures(
      "BEGIN CALL sp_a(1); call `lab`.`sp b`(); CALL lab . sp_c; SELECT 'CALL sp_x()'; -- CALL sp_y()\n END",
    ),
    [[undefined, "sp_a"], ["lab", "sp b"], ["lab", "sp_c"]],
  );
});
