/**
 * An illegal mix of collations that a client's value caused (an emoji compared with a latin1
 * column) is VALIDATION, as the same value given to a latin1 parameter is; one between two columns
 * of the schema stays DB_ERROR. The messages are MariaDB 10.11's own.
 */
import assert from "node:assert/strict";
import { mapMariadbError } from "../../src/adapters/mariadb/errors.ts";
import { BedsError, toErrorBody } from "../../src/errors.ts";

const CANNOT_HOLD = "A value has characters that the column's character set (latin1) cannot hold";

function mapped(errno: number, sqlMessage: string): BedsError {
  const cause = { errno, sqlState: "HY000", sqlMessage };
  const error = mapMariadbError(cause);
  assert.ok(error instanceof BedsError);
  assert.equal(error.cause, cause);
  return error;
}

Deno.test("mapMariadbError() answers VALIDATION for a value a column's character set cannot hold", async (t) => {
  await t.step("1267: one value against the column", () => {
    const error = mapped(
      1267,
      "Illegal mix of collations (latin1_swedish_ci,IMPLICIT) and (utf8mb4_general_ci,COERCIBLE) for operation '='",
    );
    assert.deepEqual(toErrorBody(error), {
      code: "VALIDATION",
      message: CANNOT_HOLD,
      details: { errno: 1267 },
    });
  });
  await t.step("1270: an IN list of two values", () => {
    const error = mapped(
      1270,
      "Illegal mix of collations (latin1_swedish_ci,IMPLICIT), (utf8mb4_general_ci,COERCIBLE), " +
        "(utf8mb4_general_ci,COERCIBLE) for operation 'in'",
    );
    assert.deepEqual(toErrorBody(error), {
      code: "VALIDATION",
      message: CANNOT_HOLD,
      details: { errno: 1270 },
    });
  });
  await t.step("1271: an IN list of three values or more, whose message names no character set", () => {
    const error = mapped(1271, "Illegal mix of collations for operation 'in'");
    assert.deepEqual(toErrorBody(error), {
      code: "VALIDATION",
      message: "A value has characters that the column's character set cannot hold",
      details: { errno: 1271 },
    });
  });
  await t.step("the column's character set is named whichever side it is on", () => {
    const error = mapped(
      1267,
      "Illegal mix of collations (utf8mb4_general_ci,COERCIBLE) and (cp1250_general_ci,IMPLICIT) for operation 'like'",
    );
    assert.equal(
      error.message,
      "A value has characters that the column's character set (cp1250) cannot hold",
    );
  });
});

Deno.test("mapMariadbError() keeps an illegal mix of two columns' collations a DB_ERROR", async (t) => {
  await t.step("1267: both IMPLICIT", () => {
    const error = mapped(
      1267,
      "Illegal mix of collations (latin1_swedish_ci,IMPLICIT) and (latin1_german1_ci,IMPLICIT) for operation '='",
    );
    assert.deepEqual(toErrorBody(error), {
      code: "DB_ERROR",
      message: "Database error",
      details: { errno: 1267, sqlState: "HY000" },
    });
  });
  await t.step("1270: all IMPLICIT", () => {
    const error = mapped(
      1270,
      "Illegal mix of collations (utf8mb4_unicode_ci,IMPLICIT), (utf8mb4_general_ci,IMPLICIT), " +
        "(latin1_swedish_ci,IMPLICIT) for operation 'in'",
    );
    assert.equal(error.code, "DB_ERROR");
  });
});
