/**
 * Column values fixed up for the reply: BIGINTs exact (a number within
 * ±(2^53−1), else a string of digits), JSON text parsed with its numbers
 * exact, FLOATs as their shortest decimal, and only the columns the
 * definitions name.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { columnValues, shortestFloat32 } from "../../src/adapters/mariadb/column_values.ts";
import { exactInteger } from "../../src/protocol/number_literals.ts";

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

Deno.test("a FLOAT is the shortest decimal that reads back as the same float32", () => {
  assert.equal(shortestFloat32(Math.fround(1.1)), 1.1);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
  assert.equal(shortestFloat32(Math.fround(3.4028234e38)), 3.4028235e38);
  // A value that is no float32 came as the server's decimal (the text protocol): it is left alone.
  assert.equal(shortestFloat32(1.1), 1.1);
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const short = shortestFloat32(v);
      assert.ok(Math.fround(short) === v, `${short} reads back as ${v}`);
      let precision = 1;
      while (precision < 9 && Number(short.toPrecision(precision)) !== short) precision++;
      // === rather than Object.is: −0 may stay −0, its JSON is 0 all the same.
      assert.ok(short === Number(v.toPrecision(precision)), `${short} is ${v} in ${precision} digits`);
      for (let shorter = 1; shorter < precision; shorter++) {
        assert.notEqual(Math.fround(Number(v.toPrecision(shorter))), v, `${v} in ${shorter} digits`);
      }
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("columnValues: FLOAT columns shortest, DOUBLE columns as they are, JSON numbers exact", () => {
  const float = Math.fround(1.1); // 1.100000023841858, as the binary protocol reads FLOAT 1.1
  const rows = result([column("f", 4), column("d", 5), column("doc", 252, true)], [
    { f: float, d: float, doc: '{"id": 9007199254740993, "x": 1234567890.123456789012, "n": 2.5}' },
    { f: null, d: 1.1, doc: "[1.0, -0]" },
  ]);
  assert.equal(
    JSON.stringify([...columnValues(rows)]),
    '[{"f":1.1,"d":1.100000023841858,"doc":{"id":9007199254740993,"x":1234567890.123456789012,"n":2.5}},' +
      '{"f":null,"d":1.1,"doc":[1,0]}]',
  );
});
