import assert from "node:assert/strict";
import { splitSqlScript } from "../../lab/db.ts";

Deno.test("splitSqlScript() returns no statements for empty input", () => {
  assert.deepEqual(splitSqlScript(""), []);
  assert.deepEqual(splitSqlScript("  \n\t\n"), []);
});

Deno.test("splitSqlScript() splits on semicolons and strips them", () => {
  assert.deepEqual(
    splitSqlScript("SELECT 1;\nSELECT 2 ;\n\nSELECT 3"),
    ["SELECT 1", "SELECT 2", "SELECT 3"],
  );
});

Deno.test("splitSqlScript() drops empty statements", () => {
  assert.deepEqual(splitSqlScript(";;SELECT 1;; ;\n;"), ["SELECT 1"]);
});

Deno.test("splitSqlScript() keeps a semicolon inside a quoted string", () => {
  assert.deepEqual(
    splitSqlScript(`SELECT 'a;b'; SELECT "c;d"; SELECT \`e;f\`;`),
    ["SELECT 'a;b'", 'SELECT "c;d"', "SELECT `e;f`"],
  );
});

Deno.test("splitSqlScript() handles escaped and doubled quotes in strings", () => {
  assert.deepEqual(
    splitSqlScript(String.raw`SELECT 'it\'s;'; SELECT 'O''Connor;'; SELECT 2;`),
    [String.raw`SELECT 'it\'s;'`, "SELECT 'O''Connor;'", "SELECT 2"],
  );
});

Deno.test("splitSqlScript() honours DELIMITER lines and strips the custom delimiter", () => {
  const script = [
    "DELIMITER $$",
    "DROP PROCEDURE IF EXISTS p$$",
    "CREATE PROCEDURE p()",
    "BEGIN",
    "  SELECT 1;",
    "  SELECT 2;",
    "END$$",
    "DELIMITER ;",
    "CALL p();",
  ].join("\n");
  assert.deepEqual(splitSqlScript(script), [
    "DROP PROCEDURE IF EXISTS p",
    "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
    "CALL p()",
  ]);
});

Deno.test("splitSqlScript() recognises a lower-case delimiter command", () => {
  assert.deepEqual(
    splitSqlScript(
      "delimiter //\nSELECT 1; SELECT 2//\ndelimiter ;\nSELECT 3;",
    ),
    ["SELECT 1; SELECT 2", "SELECT 3"],
  );
});

Deno.test("splitSqlScript() keeps a custom delimiter inside a quoted string", () => {
  const script = "DELIMITER $$\nSELECT '$$', \"$$;\"$$\nDELIMITER ;\n";
  assert.deepEqual(splitSqlScript(script), [`SELECT '$$', "$$;"`]);
});

Deno.test("splitSqlScript() ignores delimiters inside comments", () => {
  const script = [
    "-- header; with a semicolon",
    "# hash comment; too",
    "/* block; comment $$ */",
    "SELECT 1 -- trailing; comment",
    "  , 2 /* inline; */;",
  ].join("\n");
  assert.deepEqual(splitSqlScript(script), [
    "SELECT 1 -- trailing; comment\n  , 2 /* inline; */",
  ]);
});

Deno.test("splitSqlScript() ignores quotes inside comments", () => {
  assert.deepEqual(
    splitSqlScript("-- don't stop\nSELECT 1; /* it's */ SELECT 2;"),
    ["SELECT 1", "SELECT 2"],
  );
});

Deno.test("splitSqlScript() drops statements that are only comments", () => {
  assert.deepEqual(
    splitSqlScript("SELECT 1;\n-- trailing comment only\n/* and a block */\n"),
    ["SELECT 1"],
  );
});

Deno.test("splitSqlScript() treats -- without a following space as operators", () => {
  assert.deepEqual(splitSqlScript("SELECT 5--1;SELECT 2;"), [
    "SELECT 5--1",
    "SELECT 2",
  ]);
});

Deno.test("splitSqlScript() keeps executable comments as code", () => {
  assert.deepEqual(
    splitSqlScript("/*!40101 SET NAMES utf8mb4 */;\n/* note */;"),
    ["/*!40101 SET NAMES utf8mb4 */"],
  );
});

Deno.test("splitSqlScript() does not treat DELIMITER inside a statement as a command", () => {
  assert.deepEqual(
    splitSqlScript("SELECT x\ndelimiter AS d FROM t;"),
    ["SELECT x\ndelimiter AS d FROM t"],
  );
});

Deno.test("splitSqlScript() splits the lab procedure script into DROP/CREATE pairs", async () => {
  const text = await Deno.readTextFile(
    new URL("../../lab/sql/003_procedures.sql", import.meta.url),
  );
  const statements = splitSqlScript(text);
  assert.equal(statements.length % 2, 0);
  for (let i = 0; i < statements.length; i += 2) {
    assert.match(statements[i]!, /^DROP (PROCEDURE|FUNCTION) IF EXISTS \w+$/);
    assert.match(statements[i + 1]!, /^CREATE (PROCEDURE|FUNCTION) \w+\(/);
    assert.match(statements[i + 1]!, /\nEND$/);
  }
});

Deno.test("splitSqlScript() keeps an unterminated string in the last statement", () => {
  assert.deepEqual(splitSqlScript("SELECT 1; SELECT 'open; SELECT 2"), [
    "SELECT 1",
    "SELECT 'open; SELECT 2",
  ]);
});
