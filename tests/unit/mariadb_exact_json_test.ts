/**
 * JSON column text parsed without changing its numbers: a literal a double
 * would change is kept as raw JSON and written back digit for digit; every
 * other value is what JSON.parse gives.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalNumber, isRawNumber, parseExact } from "../../src/protocol/exact_numbers.ts";
import { sizedReply } from "../../src/brokers/reply_size.ts";
import { okReply } from "../../src/protocol/mod.ts";
import { fieldCheck } from "../../src/templates/fields.ts";

const meta = { event: "e", node: "n", broker: "b", ms: 1, rows: 1 };

/** A JSON number literal: sign, integer digits, fraction and exponent, zeros anywhere. */
const literal = fc.tuple(
  fc.constantFrom("", "-"),
  fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9]\d{0,40}$/)),
  fc.option(fc.stringMatching(/^\d{1,40}$/), { nil: undefined }),
  fc.option(
    fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), fc.stringMatching(/^\d{1,4}$/)),
    {
      nil: undefined,
    },
  ),
).map(([sign, int, fraction, exponent]) =>
  `${sign}${int}${fraction === undefined ? "" : `.${fraction}`}${exponent?.join("") ?? ""}`
);

Deno.test("numbers a double would change stay exact, in the reply and wherever they are", () => {
  const text = '{"id": 9007199254740993, "x": 1234567890.123456789012, "n": [1.5, -3, 1.0, 0.1], ' +
    '"huge": 1e400, "tiny": -1e-400, "s": "12345678901234567890"}';
  const doc = parseExact(text) as Record<string, unknown>;
  assert.ok(isRawNumber(doc.id) && isRawNumber(doc.x) && isRawNumber(doc.huge) && isRawNumber(doc.tiny));
  assert.deepEqual(doc.n, [1.5, -3, 1, 0.1]);
  assert.equal(doc.s, "12345678901234567890");
  const exact = '{"id":9007199254740993,"x":1234567890.123456789012,"n":[1.5,-3,1,0.1],' +
    '"huge":1e400,"tiny":-1e-400,"s":"12345678901234567890"}';
  assert.equal(JSON.stringify(doc), exact);
  // As the consumer sends it.
  const sized = sizedReply(okReply([{ doc }], meta), "read", 1 << 20)!;
  assert.equal(JSON.parse(sized.bytes.toString()).meta.rows, 1);
  assert.ok(sized.bytes.toString().includes(`"data":[{"doc":${exact}}]`));
  // A REL part or TXN step fed the document as a json field binds the same digits.
  assert.equal(fieldCheck("doc", { type: "json", required: false, nullable: true })(doc), exact);
  // A whole document that is one such number.
  const top = parseExact("9007199254740993");
  assert.ok(isRawNumber(top));
  assert.equal(JSON.stringify({ doc: top }), '{"doc":9007199254740993}');
});

Deno.test("a text JSON.parse refuses is refused as JSON.parse refuses it", () => {
  for (const text of ["1.", "", "[1234567890123456789,]", '{"a":1e}']) {
    assert.throws(() => parseExact(text), SyntaxError);
  }
});

Deno.test("every literal reads back as the decimal it wrote: a number when exact, else its digits", () => {
  fc.assert(
    fc.property(literal, (text) => {
      const value = parseExact(`[${text}]`) as unknown[];
      assert.equal(canonicalNumber(JSON.stringify(value).slice(1, -1)), canonicalNumber(text));
      if (!isRawNumber(value[0])) assert.equal(value[0], Number(text));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("a literal of 60,000 zeros between two digits reads at once, as written", () => {
  // MariaDB keeps a JSON column's text as written; trimming its digits' zeros took 7.6 s a read.
  const literal = `1${"0".repeat(60_000)}1`;
  const start = performance.now();
  const doc = parseExact(`{"a":${literal}}`) as Record<string, unknown>;
  assert.ok(performance.now() - start < 200);
  assert.ok(isRawNumber(doc.a) && doc.a.rawJSON === literal);
  assert.equal(canonicalNumber(`${literal}000e-3`), `${literal}e0`);
});
