/**
 * Column values fixed up for the reply: BIGINTs exact (a number within
 * ±(2^53−1), else a string of digits), JSON text parsed, and only the columns
 * the definitions name.
 */
import assert from "node:assert/strict";
import { columnValues, exactInteger } from "../../src/adapters/mariadb/column_values.ts";

const column = (name: string, columnType: number, json = false) => ({
  name: () => name,
  columnType,
  isDataTypeFormatJson: () => json,
});

function result(meta: ReturnType<typeof column>[], rows: Array<Record<string, unknown>>) {
  return Object.assign(rows, { meta });
}

Deno.test("a BIGINT is a number within ±(2^53−1) and its exact digits beyond", () => {
  assert.equal(exactInteger(0n), 0);
  assert.equal(exactInteger(9007199254740991n), 9007199254740991);
  assert.equal(exactInteger(-9007199254740991n), -9007199254740991);
  assert.equal(exactInteger(9007199254740992n), "9007199254740992");
  assert.equal(exactInteger(-9007199254740992n), "-9007199254740992");
  assert.equal(exactInteger(18446744073709551615n), "18446744073709551615");
  assert.equal(exactInteger(-9223372036854775808n), "-9223372036854775808");
});

Deno.test("columnValues fixes BIGINT and JSON columns, in rows and in a CALL's result sets", () => {
  const meta = [column("id", 8), column("n", 3), column("doc", 252, true), column("big", 8)];
  const rows = () =>
    result(meta, [
      { id: 1n, n: 2, doc: '{"a":1}', big: 9007199254740993n },
      { id: null, n: 3, doc: "1.", big: -5n },
    ]);
  const expected = [
    { id: 1, n: 2, doc: { a: 1 }, big: "9007199254740993" },
    { id: null, n: 3, doc: "1.", big: -5 },
  ];
  assert.deepEqual([...columnValues(rows())], expected);
  const sets = [rows(), { affectedRows: 0 }];
  columnValues(sets);
  assert.deepEqual([...(sets[0] as unknown[])], expected);
  // Every value of the result can be sent as JSON.
  assert.doesNotThrow(() => JSON.stringify(sets));
});

Deno.test("columnValues leaves a result without such columns, and an OK packet, as they are", () => {
  const rows = result([column("id", 3), column("name", 253)], [{ id: 1, name: "x" }]);
  assert.deepEqual([...columnValues(rows)], [{ id: 1, name: "x" }]);
  const ok = { affectedRows: 1, insertId: 7 };
  assert.equal(columnValues(ok), ok);
});
