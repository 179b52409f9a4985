import assert from "node:assert/strict";
import {
  callProcedure,
  qualified,
  quoteIdent,
  selectFunction,
  selectView,
  type Statement,
} from "../../src/adapters/mariadb/sql.ts";
import { operations } from "../../src/adapters/mariadb/operations.ts";
import { createRegistry, loadTemplates, type RecTemplate } from "../../src/templates/mod.ts";
import { mapMariadbError } from "../../src/adapters/mariadb/errors.ts";
import { BedsError, type ErrorCode, toErrorBody } from "../../src/errors.ts";

Deno.test("quoteIdent() backtick-quotes a valid identifier", () => {
  assert.equal(quoteIdent("v_customers"), "`v_customers`");
  assert.equal(quoteIdent("_x$1"), "`_x$1`");
  assert.equal(qualified("beds_lab", "sp_cus_create"), "`beds_lab`.`sp_cus_create`");
});

Deno.test("quoteIdent() rejects anything that could break out of the quotes", async (t) => {
  for (const name of ["a`b", "a b", "", "1abc", "a;b", "a.b", "a-b", "x".repeat(65), "é"]) {
    await t.step(JSON.stringify(name), () => {
      assert.throws(() => quoteIdent(name), { message: `Invalid SQL identifier "${name}"` });
    });
  }
  await t.step("qualified() validates both parts", () => {
    assert.throws(() => qualified("beds lab", "v"), { message: 'Invalid SQL identifier "beds lab"' });
    assert.throws(() => qualified("beds", "v`; DROP"), { message: 'Invalid SQL identifier "v`; DROP"' });
  });
});

Deno.test("selectView() builds a parameterised SELECT", async (t) => {
  await t.step("no filters or order", () => {
    assert.deepEqual(selectView("beds_lab", "v_customers", new Map(), [], 100, 0), {
      sql: "SELECT * FROM `beds_lab`.`v_customers` LIMIT ? OFFSET ?",
      values: [100, 0],
    });
  });
  await t.step("equality, IN list, IS NULL and order", () => {
    const where = new Map<string, unknown[]>([
      ["status", ["active"]],
      ["id", [1, 2, 3]],
      ["deleted_at", [null]],
    ]);
    const order = [{ field: "name", desc: false }, { field: "id", desc: true }];
    assert.deepEqual(selectView("beds_lab", "v_customers", where, order, 10, 20), {
      sql: "SELECT * FROM `beds_lab`.`v_customers` WHERE `status` = ? AND `id` IN (?, ?, ?) " +
        "AND `deleted_at` IS NULL ORDER BY `name`, `id` DESC LIMIT ? OFFSET ?",
      values: ["active", 1, 2, 3, 10, 20],
    });
  });
  await t.step("a null in an any-of list is IS NULL beside the others (IN never matches NULL)", () => {
    const statement = (list: unknown[]) => selectView("s", "v", new Map([["tier", list]]), [], 5, 0);
    assert.deepEqual(statement([null, "gold", "silver"]), {
      sql: "SELECT * FROM `s`.`v` WHERE (`tier` IN (?, ?) OR `tier` IS NULL) LIMIT ? OFFSET ?",
      values: ["gold", "silver", 5, 0],
    });
    assert.deepEqual(statement(["gold", null]), {
      sql: "SELECT * FROM `s`.`v` WHERE (`tier` = ? OR `tier` IS NULL) LIMIT ? OFFSET ?",
      values: ["gold", 5, 0],
    });
    assert.equal(statement([null, null]).sql, "SELECT * FROM `s`.`v` WHERE `tier` IS NULL LIMIT ? OFFSET ?");
  });
  await t.step("a value that looks like SQL stays a bound value", () => {
    const statement = selectView("s", "v", new Map([["name", ["x' OR 1=1 --"]]]), [], 1, 0);
    assert.equal(statement.sql, "SELECT * FROM `s`.`v` WHERE `name` = ? LIMIT ? OFFSET ?");
    assert.deepEqual(statement.values, ["x' OR 1=1 --", 1, 0]);
  });
  await t.step("an invalid field name throws", () => {
    assert.throws(() => selectView("s", "v", new Map([["a b", [1]]]), [], 1, 0), {
      message: 'Invalid SQL identifier "a b"',
    });
  });
});

Deno.test("callProcedure() builds a CALL with one placeholder per argument", () => {
  assert.deepEqual(callProcedure("beds_lab", "sp_cus_create", ["a@b.co", "Ada"]), {
    sql: "CALL `beds_lab`.`sp_cus_create`(?, ?)",
    values: ["a@b.co", "Ada"],
  });
  assert.deepEqual(callProcedure("beds_lab", "sp_noargs", []), {
    sql: "CALL `beds_lab`.`sp_noargs`()",
    values: [],
  });
});

Deno.test("selectFunction() selects the function's value as `value`", () => {
  assert.deepEqual(selectFunction("beds_lab", "fn_cus_order_total", [7]), {
    sql: "SELECT `beds_lab`.`fn_cus_order_total`(?) AS `value`",
    values: [7],
  });
  assert.deepEqual(selectFunction("s", "f", [1, null]), {
    sql: "SELECT `s`.`f`(?, ?) AS `value`",
    values: [1, null],
  });
});

function assertMapped(input: unknown, code: ErrorCode, message: string): BedsError {
  const error = mapMariadbError(input);
  assert.ok(error instanceof BedsError);
  assert.equal(error.code, code);
  assert.equal(error.message, message);
  return error;
}

Deno.test("mapMariadbError() maps duplicate keys to CONFLICT naming the key", async (t) => {
  await t.step("errno 1062 with a key name", () => {
    const cause = {
      errno: 1062,
      sqlState: "23000",
      sqlMessage: "Duplicate entry 'a@b.co' for key 'uq_email'",
    };
    const error = assertMapped(cause, "CONFLICT", 'Duplicate value for unique key "uq_email"');
    assert.equal(error.cause, cause);
    assert.ok(!error.message.includes("a@b.co"), "the duplicate value itself is not echoed");
  });
  await t.step("errno 1062 without a recognisable key", () => {
    assertMapped({ errno: 1062, sqlMessage: "Duplicate entry" }, "CONFLICT", "Duplicate value");
  });
  await t.step("foreign key errno 1452", () => {
    assertMapped(
      { errno: 1452, sqlMessage: "Cannot add or update a child row" },
      "CONFLICT",
      "Conflicts with related rows",
    );
  });
});

Deno.test("mapMariadbError() maps SIGNALled SQLSTATEs from procedures", async (t) => {
  await t.step("45404 → NOT_FOUND with the signal's message", () => {
    assertMapped(
      { errno: 1644, sqlState: "45404", sqlMessage: "Customer 9 not found" },
      "NOT_FOUND",
      "Customer 9 not found",
    );
  });
  await t.step("45409 → CONFLICT", () => {
    assertMapped(
      { errno: 1644, sqlState: "45409", sqlMessage: "Insufficient stock" },
      "CONFLICT",
      "Insufficient stock",
    );
  });
  await t.step("45000 → VALIDATION", () => {
    assertMapped(
      { errno: 1644, sqlState: "45000", sqlMessage: "qty must be positive" },
      "VALIDATION",
      "qty must be positive",
    );
  });
  await t.step("the driver's text is used when sqlMessage is absent", () => {
    assertMapped({ sqlState: "45404", text: "Order not found" }, "NOT_FOUND", "Order not found");
  });
  await t.step("an empty message gets a generic one", () => {
    assertMapped({ sqlState: "45001", sqlMessage: "" }, "VALIDATION", "Rejected by the database");
  });
});

Deno.test("mapMariadbError() maps value errors to VALIDATION", () => {
  const error = assertMapped(
    { errno: 1406, sqlState: "22001", sqlMessage: "Data too long for column 'name' at row 1" },
    "VALIDATION",
    "Value rejected by the database: Data too long for column 'name' at row 1",
  );
  assert.deepEqual(error.details, { errno: 1406 });
  // Values that together pass the row size InnoDB keeps in a page: the table allows them, they do not fit.
  const tooLarge = "Row size too large (> 8126). Changing some columns to TEXT or BLOB may help.";
  assertMapped(
    { errno: 1118, sqlState: "42000", sqlMessage: tooLarge },
    "VALIDATION",
    `Value rejected by the database: ${tooLarge}`,
  );
});

Deno.test("mapMariadbError() maps transient and connection failures to DB_UNAVAILABLE", async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["deadlock 1213", { errno: 1213, sqlState: "40001", sqlMessage: "Deadlock found" }],
    ["lock wait timeout 1205", { errno: 1205, sqlState: "HY000", sqlMessage: "Lock wait timeout exceeded" }],
    ["a fatal error", { errno: 45009, fatal: true, code: "ER_UNKNOWN" }],
    ["ECONNREFUSED", { code: "ECONNREFUSED" }],
    ["a pool timeout", { errno: 45028, code: "ER_GET_CONNECTION_TIMEOUT" }],
  ];
  for (const [name, input] of cases) {
    await t.step(name, () => {
      const error = assertMapped(input, "DB_UNAVAILABLE", "Database unavailable; try again");
      const details = error.details as { errno?: number; reason?: string };
      assert.equal(details.errno, input.errno);
      assert.equal(details.reason, input.code);
      assert.equal(error.cause, input);
    });
  }
});

Deno.test("mapMariadbError() maps anything else to DB_ERROR without leaking the driver message", async (t) => {
  await t.step("an unknown errno", () => {
    const error = assertMapped(
      { errno: 1146, sqlState: "42S02", sqlMessage: "Table 'beds_lab.secret_table' doesn't exist" },
      "DB_ERROR",
      "Database error",
    );
    assert.deepEqual(error.details, { errno: 1146, sqlState: "42S02" });
  });
  await t.step("a plain Error", () => {
    assertMapped(new Error("boom"), "DB_ERROR", "Database error");
  });
  await t.step("null", () => {
    assertMapped(null, "DB_ERROR", "Database error");
  });
  await t.step("a BedsError passes through unchanged", () => {
    const original = new BedsError("OVERLOADED", "Too many queued requests");
    assert.equal(mapMariadbError(original), original);
  });
});

Deno.test("toErrorBody() turns errors into wire bodies", async (t) => {
  await t.step("a plain Error becomes INTERNAL without its message", () => {
    const body = toErrorBody(new Error("password=hunter2 at db.internal:3306"));
    assert.deepEqual(body, { code: "INTERNAL", message: "Internal error" });
    assert.ok(!JSON.stringify(body).includes("hunter2"));
  });
  await t.step("a thrown non-Error becomes INTERNAL", () => {
    assert.deepEqual(toErrorBody("oops"), { code: "INTERNAL", message: "Internal error" });
  });
  await t.step("a BedsError keeps code, message and details but not its cause", () => {
    const error = new BedsError("VALIDATION", 'Field "id" is required', {
      details: { field: "id" },
      cause: new Error("secret"),
    });
    assert.deepEqual(toErrorBody(error), {
      code: "VALIDATION",
      message: 'Field "id" is required',
      details: { field: "id" },
    });
  });
  await t.step("a BedsError without details has no details key", () => {
    const body = toErrorBody(new BedsError("NOT_FOUND", "No such row"));
    assert.deepEqual(body, { code: "NOT_FOUND", message: "No such row" });
    assert.ok(!("details" in body));
  });
  await t.step("a mapped driver error keeps the SQL text out of the body", () => {
    const body = toErrorBody(
      mapMariadbError({ errno: 1064, sqlMessage: "You have an error near 'SELECT secret'" }),
    );
    assert.equal(body.code, "DB_ERROR");
    assert.ok(!JSON.stringify(body).includes("secret"));
  });
});

Deno.test("operations().read by key reuses one SQL text per template, the one selectView() writes", async (t) => {
  const registry = createRegistry(await loadTemplates(new URL("../../templates", import.meta.url).pathname));
  const cus = registry.get("cus") as RecTemplate;
  const sent: Statement[] = [];
  const answer = (st: Statement) => {
    sent.push(st);
    return Promise.resolve([{ id: 1 }]);
  };
  const ops = operations(() => "beds_lab", answer, answer);
  const read = (key: Map<string, unknown> | undefined, where = new Map<string, unknown[]>()) =>
    ops.read({ template: cus, key, where, order: [], limit: 100, offset: 0, params: new Map() });

  await t.step("the same text for every key, the values bound", async () => {
    await read(new Map([["id", 1]]));
    await read(new Map([["id", 2]]));
    const expected = selectView("beds_lab", "v_customers", new Map([["id", [0]]]), [], 2, 0).sql;
    assert.equal(sent[0]!.sql, "SELECT * FROM `beds_lab`.`v_customers` WHERE `id` = ? LIMIT ? OFFSET ?");
    assert.equal(sent[0]!.sql, expected);
    assert.equal(sent[1]!.sql, sent[0]!.sql);
    assert.deepEqual(sent.map((s) => s.values), [[1, 2, 0], [2, 2, 0]]);
  });
  await t.step("a NULL key value is written IS NULL, not bound", async () => {
    sent.length = 0;
    await read(new Map([["id", null]])).catch(() => {});
    assert.equal(sent[0]!.sql, "SELECT * FROM `beds_lab`.`v_customers` WHERE `id` IS NULL LIMIT ? OFFSET ?");
    assert.deepEqual(sent[0]!.values, [2, 0]);
  });
  await t.step("a key with where filters takes both", async () => {
    sent.length = 0;
    await read(new Map([["id", 3]]), new Map([["status", ["active"]]]));
    assert.equal(
      sent[0]!.sql,
      "SELECT * FROM `beds_lab`.`v_customers` WHERE `status` = ? AND `id` = ? LIMIT ? OFFSET ?",
    );
    assert.deepEqual(sent[0]!.values, ["active", 3, 2, 0]);
  });
  await t.step("a reloaded template (a new object) gets its own text", async () => {
    sent.length = 0;
    const renamed = { ...cus, ops: { ...cus.ops, read: { ...cus.ops.read!, view: "v_customers_2" } } };
    await ops.read({
      template: renamed,
      key: new Map([["id", 1]]),
      where: new Map(),
      order: [],
      limit: 100,
      offset: 0,
      params: new Map(),
    });
    assert.equal(sent[0]!.sql, "SELECT * FROM `beds_lab`.`v_customers_2` WHERE `id` = ? LIMIT ? OFFSET ?");
  });
});
