/**
 * The exact parse is `JSON.parse` plus one linear scan of the text for the literals a double would
 * change. It must give what the reviver it replaced gave (a reviver with each value's source text,
 * kept here as the reference), on generated JSON with duplicate keys, escapes, `__proto__` and
 * strings full of digits; and hostile bodies (many values, long literals, deep nesting) must cost
 * about what `JSON.parse` costs, not a call per value or a step per pair of digits.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalNumber, isRawNumber, literalParts, parseExact } from "../../src/protocol/exact_numbers.ts";
import { decodeRequest, parseRequestText } from "../../src/protocol/request.ts";

const encoder = new TextEncoder();

/** The parse before the scan: V8 calls the reviver on every value, with the literal of a number. */
function revived(text: string): unknown {
  const parse = JSON.parse as (
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ) => unknown;
  const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  return parse(text, (_key, value, { source }) => {
    if (typeof value !== "number" || source === undefined) return value;
    const shortest = String(value);
    const same = source === shortest || canonicalNumber(source) === canonicalNumber(shortest);
    return same ? value : rawJSON(source);
  });
}

/** Sets an own property, also one named `__proto__`. */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Every raw number of `value` as the double `JSON.parse` makes (recursive: test values are small). */
function plain(value: unknown): unknown {
  if (isRawNumber(value)) return Number(value.rawJSON);
  if (value === null || typeof value !== "object") return value;
  for (const key of Object.keys(value)) setOwn(value, key, plain((value as Record<string, unknown>)[key]));
  return value;
}

const FIELD_SECTIONS = new Set(["key", "data", "where"]);

/** A request body as the reviver's parse gave it: exact numbers only inside sections that are objects. */
function revivedRequest(text: string): unknown {
  const body = revived(text);
  if (body === null || typeof body !== "object" || Array.isArray(body)) return plain(body);
  for (const key of Object.keys(body)) {
    const value = (body as Record<string, unknown>)[key];
    const section = FIELD_SECTIONS.has(key) && value !== null && typeof value === "object" &&
      !Array.isArray(value) && !isRawNumber(value);
    if (!section) setOwn(body, key, plain(value));
  }
  return body;
}

/**
 * `value` in a form `deepStrictEqual` tells apart exactly: an object as its own keys and values in
 * order (a `__proto__` key included), a raw number as its literal.
 */
function shape(value: unknown): unknown {
  if (isRawNumber(value)) return { raw: value.rawJSON };
  if (Array.isArray(value)) return { array: value.map(shape) };
  if (value !== null && typeof value === "object") {
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    return { object: Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k])]) };
  }
  return value;
}

/** Either the parsed value's shape, or the error's type. */
function outcome(parse: (text: string) => unknown, text: string): unknown {
  try {
    return shape(parse(text));
  } catch (error) {
    return { threw: (error as Error).constructor.name, stack: (error as Error).stack };
  }
}

const ws = fc.constantFrom("", "", "", " ", "\n  ", "\t", "\r\n");

/** Number literals: short and long, integers, fractions, exponents, zeros, all JSON allows. */
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom(
    "9007199254740993",
    "-9007199254740993",
    "9007199254740992",
    "1234567890123456",
    "12345678901234567890",
    "1234567890.123456789012",
    "0.1000000000000000055511151231257827",
    "1e400",
    "-1E+400",
    "1e-400",
    "1.5e308",
    "0.0000000000000000",
    "-0",
    "1e21",
    "100000000000000000000000",
    `1${"0".repeat(40)}1`,
  ),
  fc.tuple(
    fc.constantFrom("", "-"),
    fc.stringMatching(/^(0|[1-9]\d{0,24})$/),
    fc.option(fc.stringMatching(/^\d{1,24}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[eE][+-]?\d{1,4}$/), { nil: undefined }),
  ).map(([sign, int, fraction, exponent]) =>
    `${sign}${int}${fraction === undefined ? "" : `.${fraction}`}${exponent ?? ""}`
  ),
);

/** String texts: digits that look like numbers, escapes (a quote, backslashes, `\u`), any unit. */
const string = fc.oneof(
  fc.stringMatching(/^[\d.eE+-]{0,30}$/).map((s) => JSON.stringify(s)),
  fc.string({ unit: "binary", maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(
    '"\\\\"',
    '"\\\\\\""',
    '"a\\"1234567890123456\\""',
    '"\\u0031234567890123456789"',
    '"\\\\\\\\\\"x"',
    '"\\/"',
  ),
);

/**
 * Keys as written: the same key in other spellings, `__proto__`, integer-like keys. None holds a
 * backslash: V8 then reads another key's escape wrongly, with or without a reviver (tested below).
 */
const key = fc.oneof(
  fc.constantFrom(
    '"a"',
    '"\\u0061"',
    '"b"',
    '"__proto__"',
    '"__pro\\u0074o__"',
    '"0"',
    '"1"',
    '"10"',
    '"01"',
    '""',
    '"a\\"b"',
    '"1234567890123456"',
    '"\\/"',
    '"a\\/b"',
    '"\\u002f\\n"',
  ),
  string,
).filter((quoted) => !(JSON.parse(quoted) as string).includes("\\"));

const scalar = fc.oneof(
  { arbitrary: number, weight: 4 },
  { arbitrary: string, weight: 2 },
  { arbitrary: fc.constantFrom("true", "false", "null"), weight: 1 },
);

const pad = (text: string, [before, after]: [string, string]) => `${before}${text}${after}`;

const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("object")),
  array: fc.array(fc.tuple(tie("value"), ws, ws), { maxLength: 5 }).map((items) =>
    `[${items.map(([item, ...space]) => pad(item as string, space)).join(",")}]`
  ),
  object: fc.array(fc.tuple(key, tie("value"), ws, ws, ws), { maxLength: 6 }).map((members) =>
    `{${members.map(([k, v, a, b, c]) => pad(`${k}${b}:${c}${v as string}`, [a, b])).join(",")}}`
  ),
}));

/** A body at the top: an object whose keys include the sections, some written twice. */
const topKey = fc.constantFrom(
  '"key"',
  '"data"',
  '"where"',
  '"limit"',
  '"zz"',
  '"__proto__"',
  '"d\\u0061ta"',
);
const body = fc.array(fc.tuple(topKey, value as fc.Arbitrary<string>), { maxLength: 6 }).map((members) =>
  `{${members.map(([k, v]) => `${k}:${v}`).join(",")}}`
);

Deno.test("parseExact() gives what the reviver gave, on any JSON", () => {
  fc.assert(
    fc.property(fc.tuple(value as fc.Arbitrary<string>, ws, ws), ([text, before, after]) => {
      const padded = `${before}${text}${after}`;
      assert.deepStrictEqual(outcome(parseExact, padded), outcome(revived, padded), padded);
    }),
    { numRuns: 4000 },
  );
});

Deno.test("parseRequestText() gives what the reviver gave in the sections, and JSON.parse elsewhere", () => {
  fc.assert(
    fc.property(body, (text) => {
      assert.deepStrictEqual(outcome(parseRequestText, text), outcome(revivedRequest, text), text);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("parseExact() on what the generators may miss", async (t) => {
  const same = (text: string) => assert.deepStrictEqual(shape(parseExact(text)), shape(revived(text)), text);
  await t.step("the last of a key written twice is its value, however it is spelled", () => {
    for (
      const text of [
        '{"a":9007199254740993,"a":9007199254740992}',
        '{"a":9007199254740993,"\\u0061":1}',
        '{"a":1,"a":9007199254740993}',
        '{"a":{"b":1e400},"a":{"b":1e300}}',
        '{"a":{"b":1e400},"a":[1e400]}',
        '{"a":[1e400],"b":2,"a":"x"}',
        '{"__proto__":1e400,"__proto__":{"x":12345678901234567890}}',
      ]
    ) same(text);
    const last = parseExact('{"a":9007199254740993,"a":9007199254740992}') as Record<string, unknown>;
    assert.equal(last.a, 9007199254740992);
  });
  await t.step("a __proto__ key is an own key, and no prototype changes", () => {
    const parsed = parseExact('{"__proto__":{"x":1e400},"y":{"__proto__":9007199254740993}}') as Record<
      string,
      Record<string, unknown>
    >;
    assert.ok(Object.hasOwn(parsed, "__proto__") && isRawNumber(parsed["__proto__"]!.x));
    assert.ok(Object.hasOwn(parsed.y!, "__proto__") && isRawNumber(parsed.y!["__proto__"]));
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal(Object.getPrototypeOf(parsed.y), Object.prototype);
  });
  await t.step("integer-like keys, which an object lists first", () => {
    same('{"b":9007199254740993,"10":1e400,"2":[1,12345678901234567890],"01":1e-400}');
  });
  await t.step("a whole text that is one number, with white space around", () => {
    const top = parseExact(" \n9007199254740993\t");
    assert.ok(isRawNumber(top) && top.rawJSON === "9007199254740993");
    assert.equal(parseExact("1234567890123456"), 1234567890123456);
  });
  await t.step("a key V8 reads wrongly is an error, not another key", () => {
    // After {"x":1,"\\":1}, V8 (15.0) reads the key "\/" of {"x":1,"\/":2} as "\\". The shapes
    // are their own (the keys "x1"... are in no other test), so the first parse reads right.
    const escaped = [
      '{"x1":1,"\\/":2}',
      '{"x2":1,"\\"":2}',
      '{"x3":1,"\\n":2}',
      '{"x4":1,"\\u0061":{"b":3}}',
    ];
    const decoded = [{ x1: 1, "/": 2 }, { x2: 1, '"': 2 }, { x3: 1, "\n": 2 }, { x4: 1, a: { b: 3 } }];
    escaped.forEach((text, i) => assert.deepStrictEqual(parseExact(text), decoded[i]));
    for (const [i, text] of escaped.entries()) {
      JSON.parse(`{"x${i + 1}":1,"\\\\":1}`);
      assert.equal(Object.keys(JSON.parse(text))[1], "\\", "V8 reads it wrongly no more: drop the check?");
      assert.throws(() => parseExact(text), {
        name: "MisreadKeyError",
        message:
          /^A key written with an escape \(".*"\) was misread by the JSON parser; send it without escapes$/,
      });
    }
    // Inside, with numbers to keep, and in a request body, outside the field sections too.
    JSON.parse('{"x":1,"\\\\":1}');
    const deep = '{"y":[{"x":1,"\\/":{"z":1e400}}],"/":7}';
    assert.throws(() => parseExact(deep), { message: /\("\/"\) was misread/ });
    assert.throws(() => parseExact('{"a":{"x":1,"\\/":"v"}}'), { message: /\("\/"\) was misread/ });
    for (const section of ["data", "options"]) {
      const body = `{"template":"ord","op":"create","${section}":{"doc":{"x":1,"\\/":9}}}`;
      assert.throws(() => decodeRequest(encoder.encode(body), 65536), (error: Error) => {
        assert.match(error.message, /^A key written with an escape \("\/"\) was misread by the JSON parser/);
        return true;
      });
    }
    // A later key of the same name is the value, as JSON.parse has it: no error.
    assert.deepStrictEqual(parseExact('{"x":1,"\\/":2,"/":3}'), { x: 1, "/": 3 });
  });
  await t.step("backslashes only in string values parse as before, and other errors keep theirs", () => {
    JSON.parse('{"x":1,"\\\\":1}');
    for (
      const text of [
        '{"x":1,"y":"\\/\\n\\\\\\""}',
        '["\\\\",{"x":"\\u0031234567890123456789"}]',
        '{"x":"a\\\\","y":9007199254740993}',
        '"\\/"',
      ]
    ) same(text);
    assert.throws(() => parseExact('{"a\\/":}'), (error: Error) => error.constructor === SyntaxError);
  });
  await t.step("a number only counts outside strings", () => {
    const text = '{"phone":"+33 1234567890123456789","card":"4111111111111111111","n":[1,"1e400"]}';
    assert.deepStrictEqual(parseExact(text), JSON.parse(text));
  });
});

/** `run`'s time in milliseconds. */
function elapsed(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

Deno.test("a literal of 64,000 zeros between two digits takes linear time", () => {
  // Before: /0+$/ on its digits took n²/2 steps, 9 s here. Now well under a millisecond.
  const literal = `1${"0".repeat(64_000)}1`;
  assert.ok(elapsed(() => literalParts(literal)) < 200);
  assert.equal(canonicalNumber(literal), `${literal}e0`);
  assert.equal(canonicalNumber(`${literal}00000.000e-5`), `${literal}e0`);
  const body = `{"template":"ord","op":"read","key":{"id":${literal}}}`;
  let key: unknown;
  assert.ok(elapsed(() => key = decodeRequest(encoder.encode(body), 1 << 20).key!.id) < 200);
  assert.ok(isRawNumber(key) && key.rawJSON === literal);
});

Deno.test("a body's values cost no call each: JSON.parse runs once, without a reviver", () => {
  const zeros = Array(32_000).fill(0).join(",");
  const bodies = [
    `{"template":"ord","op":"read","where":{"id":[${zeros},1234567890123456]}}`,
    `{"template":"ord","op":"read","where":{"id":[${zeros},9007199254740993]}}`,
    `{"template":"ord","op":"read","where":{"id":["1234567890123456789",${zeros}]}}`,
  ];
  const parse = JSON.parse;
  const calls: Array<{ text: string; reviver: unknown }> = [];
  JSON.parse = (text: string, reviver?: unknown) => {
    calls.push({ text, reviver });
    return parse(text, reviver as undefined);
  };
  try {
    for (const text of bodies) decodeRequest(encoder.encode(text), 65536);
  } finally {
    JSON.parse = parse;
  }
  assert.deepStrictEqual(calls, bodies.map((text) => ({ text, reviver: undefined })));
  const kept = decodeRequest(encoder.encode(bodies[1]!), 65536).where!.id as unknown[];
  assert.equal(kept.length, 32_001);
  assert.ok(isRawNumber(kept[32_000]) && kept.slice(0, -1).every((n) => n === 0));
});

Deno.test("a body nested 30,000 deep parses as JSON.parse parses it, its long number kept", () => {
  // The reviver ran out of call stack at about 5,000 levels (BAD_REQUEST "not valid UTF-8 JSON").
  const depth = 30_000;
  const deep = `${"[".repeat(depth)}9007199254740993${"]".repeat(depth)}`;
  const request = decodeRequest(
    encoder.encode(`{"template":"ord","op":"read","where":{"x":${deep}}}`),
    65536,
  );
  let inner: unknown = request.where!.x;
  for (let level = 0; level < depth; level++) inner = (inner as unknown[])[0];
  assert.ok(isRawNumber(inner) && inner.rawJSON === "9007199254740993");
  const objects = `${'{"a":'.repeat(depth / 2)}1e400${"}".repeat(depth / 2)}`;
  let a = parseExact(objects);
  for (let level = 0; level < depth / 2; level++) a = (a as { a: unknown }).a;
  assert.ok(isRawNumber(a) && a.rawJSON === "1e400");
});
