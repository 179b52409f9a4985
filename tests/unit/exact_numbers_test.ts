/**
 * Numbers of a request kept as the client wrote them: the canonical comparison that decides which
 * literals a double would change, the request decoder that keeps those as raw JSON in field values
 * (and only there), the field checks of every type on such a value, and the MongoDB adapter's
 * json values built from them.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Long } from "mongodb";
import { documentOf } from "../../src/adapters/mongodb/filters.ts";
import type { Adapter } from "../../src/adapters/types.ts";
import type { Op } from "../../src/config/mod.ts";
import { dispatch } from "../../src/dispatch/dispatch.ts";
import { BedsError } from "../../src/errors.ts";
import {
  canonicalNumber,
  isRawNumber,
  mayChangeNumbers,
  parseExact,
  sameNumber,
} from "../../src/protocol/exact_numbers.ts";
import { checkRequest, decodeRequest } from "../../src/protocol/request.ts";
import {
  compileTemplate,
  createRegistry,
  type FieldCheck,
  fieldCheck,
  loadTemplates,
} from "../../src/templates/mod.ts";
import type { FieldSpec } from "../../src/templates/schema.ts";

const encoder = new TextEncoder();
const decode = (text: string) => decodeRequest(encoder.encode(text), 65536);

function check(spec: Partial<FieldSpec> & Pick<FieldSpec, "type">): FieldCheck {
  return fieldCheck("f", { required: false, nullable: false, ...spec });
}

/** The value of `data.f` in a body, as the node decodes it. */
function sent(literal: string): unknown {
  return decode(`{"template":"ord","op":"create","data":{"f":${literal}}}`).data!.f;
}

function assertInvalid(fn: () => unknown, message: string, field = "f"): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BedsError, `expected a BedsError, got ${error}`);
    assert.equal(error.code, "VALIDATION");
    assert.equal(error.message, message);
    assert.deepEqual(error.details, { field });
    return true;
  });
}

/** The error decoding `text` throws, or "ok". */
function outcome(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (error) {
    return error instanceof BedsError ? `${error.code}: ${error.message}` : String(error);
  }
}

/** A literal of a double's shortest digits, written another way: `1.5` as `15.00e-1`, `0.0150e2`. */
function otherForms(n: number): string[] {
  const [mantissa = "", exp = "0"] = Math.abs(n).toExponential().split("e"); // its shortest digits
  const sign = n < 0 ? "-" : "";
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  return [
    `${sign}${digits}.00e${e - (digits.length - 1)}`,
    `${sign}0.0${digits}0E${e + 2}`,
    `${sign}${mantissa}e${exp}`,
  ];
}

Deno.test("canonicalNumber() writes equal values alike", () => {
  for (
    const same of [["1.50", "15e-1", "0.15E1", "1.5", "150e-2"], ["1e+21", "1000000000000000000000", "1E21"]]
  ) {
    assert.equal(new Set(same.map(canonicalNumber)).size, 1, same.join(" "));
  }
  for (const zero of ["0", "-0", "0.000", "0e400", "-0.0E-7"]) assert.equal(canonicalNumber(zero), "0");
  assert.equal(canonicalNumber("-12.3400e-2"), "-1234e-4");
  assert.equal(canonicalNumber("9007199254740993"), "9007199254740993e0");
  assert.equal(canonicalNumber("Infinity"), undefined);
  assert.equal(canonicalNumber("NaN"), undefined);
  assert.notEqual(canonicalNumber("1e400"), canonicalNumber("1e-400"));
});

Deno.test("sameNumber(): a double's shortest form, in any notation, is never marked", () => {
  const double = fc.double({ noNaN: true, noDefaultInfinity: true });
  fc.assert(
    fc.property(double, (n) => {
      for (const literal of [JSON.stringify(n), String(n), ...otherForms(n)]) {
        assert.ok(sameNumber(literal, n), `${literal} is ${n}`);
        const parsed = parseExact(`[${literal}]`) as unknown[];
        assert.equal(typeof parsed[0], "number", literal);
        assert.ok(parsed[0] === n, literal); // -0 is 0 here, as JSON.parse makes it
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("sameNumber(): a longer literal that is not the double's shortest form is marked, and kept", () => {
  const longer = fc.tuple(
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => n !== 0),
    fc.integer({ min: 0, max: 20 }),
    fc.integer({ min: 1, max: 9 }),
  );
  fc.assert(
    fc.property(longer, ([n, zeros, last]) => {
      // 17 significant digits at most in the shortest form: one more non-zero digit past them.
      const [mantissa = "", exp = "0"] = Math.abs(n).toExponential().split("e");
      const digits = mantissa.replace(".", "").padEnd(17, "0") + "0".repeat(zeros) + last;
      const literal = `${n < 0 ? "-" : ""}${digits[0]}.${digits.slice(1)}e${exp}`;
      assert.equal(sameNumber(literal, Number(literal)), false, literal);
      const parsed = parseExact(`{"a":[${literal}]}`) as { a: unknown[] };
      assert.ok(isRawNumber(parsed.a[0]), literal);
      assert.equal(JSON.stringify(parsed), `{"a":[${literal}]}`);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("a literal of at most 15 significant digits and a 2-digit exponent always reads back as itself", () => {
  // What the cheap pre-check on the body rests on: such a literal never needs the slow path.
  const literal = fc.tuple(
    fc.boolean(),
    fc.stringMatching(/^[1-9]\d{0,14}$/),
    fc.integer({ min: 0, max: 14 }),
    fc.option(fc.integer({ min: -99, max: 99 })),
  ).map(([negative, digits, point, exponent]) => {
    const at = Math.min(point, digits.length - 1);
    const mantissa = at === 0 ? digits : `${digits.slice(0, at)}.${digits.slice(at)}`;
    return `${negative ? "-" : ""}${mantissa}${exponent === null ? "" : `e${exponent}`}`;
  });
  fc.assert(
    fc.property(literal, (text) => {
      assert.equal(mayChangeNumbers(text), false, text);
      assert.ok(sameNumber(text, Number(text)), text);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("mayChangeNumbers() is /[\\d.]{16}|[eE][+-]?\\d{3}/ (written out for speed)", () => {
  const text = fc.string({ unit: fc.constantFrom(...'0123456789.eE+-x"'), maxLength: 60 });
  fc.assert(
    fc.property(text, (t) => assert.equal(mayChangeNumbers(t), /[\d.]{16}|[eE][+-]?\d{3}/.test(t), t)),
    { numRuns: 5000 },
  );
});

Deno.test("parseExact() keeps what a double changes, and nothing else", () => {
  const text = '{"a":9007199254740993,"b":1234567890.123456789012,"c":1e400,"d":1e-400,' +
    '"e":0.1,"f":9007199254740992,"g":"9007199254740993","h":[-1E+400,12345678901234567890]}';
  const parsed = parseExact(text) as Record<string, unknown>;
  for (const key of ["a", "b", "c", "d"]) assert.ok(isRawNumber(parsed[key]), key);
  assert.equal(parsed.e, 0.1);
  assert.equal(parsed.f, 9007199254740992);
  assert.equal(parsed.g, "9007199254740993");
  assert.equal(JSON.stringify(parsed), text);
  // A "__proto__" key stays an own key, as JSON.parse keeps it, and changes no prototype.
  const proto = parseExact('{"__proto__":{"x":1e400}}') as Record<string, unknown>;
  assert.ok(Object.hasOwn(proto, "__proto__"));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(
    parseExact('{"__proto__":{"x":1e400}}', new Set()),
    JSON.parse('{"__proto__":{"x":1e400}}'),
  );
});

Deno.test("a literal of 60,000 exponent digits is past every range (0 for a double)", () => {
  const huge = `1e${"9".repeat(60_000)}`;
  const parsed = parseExact(`[${huge},-${huge},1e-${"9".repeat(60_000)}]`) as unknown[];
  assert.ok(parsed.every(isRawNumber));
  assertInvalid(() => check({ type: "int" })(parsed[0]), 'Field "f" is past what a BIGINT holds');
  assertInvalid(() => check({ type: "number" })(parsed[1]), 'Field "f" is past what a double holds');
  assert.equal(check({ type: "number" })(parsed[2]), 0);
  assertInvalid(
    () => check({ type: "decimal" })(parsed[2]),
    'Field "f" is past what a DECIMAL holds (65 digits, 30 of them after the point)',
  );
  assert.equal(check({ type: "json" })(parsed[0]), huge);
});

Deno.test("decodeRequest() keeps a field value's exact number; elsewhere a number is judged as before", async (t) => {
  await t.step("in key, data and where, at any depth", () => {
    const request = decode(
      '{"template":"ord","op":"create","key":{"id":9007199254740993},' +
        '"data":{"doc":{"order_id":9007199254740993,"amount":1234567890.123456789012,"big":1e400}}}',
    );
    assert.ok(isRawNumber(request.key!.id));
    assert.equal(
      JSON.stringify(request.data),
      '{"doc":{"order_id":9007199254740993,"amount":1234567890.123456789012,"big":1e400}}',
    );
    const read = decode('{"template":"ord","op":"read","where":{"id":[1,9007199254740993]}}');
    assert.equal(JSON.stringify(read.where), '{"id":[1,9007199254740993]}');
  });
  await t.step(
    "limit, offset, deadline_ms, v, order, event and the sections themselves as JSON.parse has them",
    () => {
      for (
        const rest of [
          '"limit":1e400',
          '"limit":12345678901234567890',
          '"offset":10.0000000000000000001',
          '"deadline_ms":17640000000000000001',
          '"v":1.0000000000000000000001',
          '"order":[1e400]',
          '"event":{"parent":1e400}',
          '"key":1e400',
          '"where":[9007199254740993]',
          '"zz":{"a":[1e400]}',
        ]
      ) {
        const text = `{"template":"ord","op":"read",${rest}}`;
        assert.equal(outcome(() => decode(text)), outcome(() => checkRequest(JSON.parse(text))), rest);
      }
      assert.deepEqual(decode('{"template":"ord","op":"read","v":1.0000000000000000000001}'), {
        template: "ord",
        op: "read",
        v: 1,
      });
      assert.equal(outcome(() => decode("1e400")), "BAD_REQUEST: Request body must be a JSON object");
      assert.equal(outcome(() => decode("[1e400]")), "BAD_REQUEST: Request body must be a JSON object");
    },
  );
  await t.step("a body with no long number is parsed as JSON.parse parses it", () => {
    const text =
      '{"template":"ord","op":"read","key":{"id":123456789012345},"limit":5,"deadline_ms":1764000000000}';
    assert.equal(mayChangeNumbers(text), false);
    assert.deepEqual(decode(text), JSON.parse(text));
  });
});

Deno.test("fieldCheck() of each type on a number a double would change", async (t) => {
  await t.step("int: its exact integer, as the string of its digits is taken", () => {
    const c = check({ type: "int" });
    assert.equal(c(sent("9007199254740993")), "9007199254740993");
    assert.equal(c(sent("-9223372036854775808")), "-9223372036854775808");
    assert.equal(c(sent("18446744073709551615")), "18446744073709551615");
    assert.equal(c(sent("9007199254740993.000000")), "9007199254740993");
    assert.equal(c(sent("1.8446744073709551615e19")), "18446744073709551615");
    assertInvalid(() => c(sent("18446744073709551616")), 'Field "f" is past what a BIGINT holds');
    assertInvalid(() => c(sent("1e400")), 'Field "f" is past what a BIGINT holds');
    assertInvalid(() => c(sent("-1e999999999")), 'Field "f" is past what a BIGINT holds');
    assertInvalid(() => c(sent("9007199254740993.5")), 'Field "f" must be an integer, got number');
    assertInvalid(() => c(sent("1.0000000000000000001")), 'Field "f" must be an integer, got number');
    assertInvalid(() => c(sent("1e-400")), 'Field "f" must be an integer, got number');
    // A double's own integer past 2^53 may be a client's rounded double: still refused.
    assertInvalid(
      () => c(sent("9007199254740992")),
      'Field "f" is past ±(2^53−1): send the string of its digits',
    );
    const ranged = check({ type: "int", min: 1, max: 1e19 });
    assertInvalid(() => ranged(sent("-9007199254740993")), 'Field "f" must be at least 1');
    assertInvalid(
      () => ranged(sent("10000000000000000001")),
      'Field "f" must be at most 10000000000000000000',
    );
    assertInvalid(
      () => check({ type: "int", enum: [1, 2] })(sent("9007199254740993")),
      'Field "f" must be one of 1, 2',
    );
  });
  await t.step("number: the double nearest it, as a double column holds it", () => {
    const c = check({ type: "number" });
    assert.equal(c(sent("1234567890.123456789012")), 1234567890.1234567);
    assert.equal(c(sent("9007199254740993")), 9007199254740992);
    assert.equal(c(sent("1e-400")), 0);
    assertInvalid(() => c(sent("1e400")), 'Field "f" is past what a double holds');
    assertInvalid(() => c(sent("-1e400")), 'Field "f" is past what a double holds');
    // Within a max of 1: its double is 1.
    assert.equal(check({ type: "number", max: 1 })(sent("1.0000000000000000001")), 1);
  });
  await t.step("decimal: its digits as sent, in plain notation", () => {
    const c = check({ type: "decimal" });
    assert.equal(c(sent("1234567890.123456789012")), "1234567890.123456789012");
    assert.equal(c(sent("-1234567890.1234567890120")), "-1234567890.1234567890120");
    assert.equal(c(sent("1.234567890123456789012e9")), "1234567890.123456789012");
    assert.equal(c(sent("1.5e-20")), "0.000000000000000000015");
    assert.equal(c(sent("12345678901234567890123e5")), "1234567890123456789012300000");
    assertInvalid(
      () => c(sent("1e400")),
      'Field "f" is past what a DECIMAL holds (65 digits, 30 of them after the point)',
    );
    assertInvalid(
      () => c(sent("1.5e-400")),
      'Field "f" is past what a DECIMAL holds (65 digits, 30 of them after the point)',
    );
    assertInvalid(
      () => check({ type: "decimal", precision: 20, scale: 6 })(sent("1234567890.123456789012")),
      'Field "f" must have at most 6 digits after the decimal point',
    );
    assertInvalid(
      () => check({ type: "decimal", max: 100 })(sent("100.000000000000000001")),
      'Field "f" must be at most 100',
    );
    assert.equal(
      check({ type: "decimal", enum: ["1234567890.123456789012"] })(sent("1234567890.1234567890120")),
      "1234567890.1234567890120",
    );
  });
  await t.step("json: its literal, as sent, at any depth", () => {
    const c = check({ type: "json" });
    const doc = '{"order_id":9007199254740993,"amount":1234567890.123456789012,"huge":[1e400,-1E-400]}';
    assert.equal(c(sent(doc)), doc);
    assert.equal(c(sent("9007199254740993")), "9007199254740993");
  });
  await t.step("every other type: the error of any number", () => {
    assertInvalid(() => check({ type: "string" })(sent("1e400")), 'Field "f" must be a string, got number');
    assertInvalid(
      () => check({ type: "boolean" })(sent("1.00000000000000000001")),
      'Field "f" must be a boolean (or 1 or 0), got number',
    );
    assertInvalid(() => check({ type: "date" })(sent("1e400")), 'Field "f" must be a date YYYY-MM-DD');
    assertInvalid(
      () => check({ type: "datetime" })(sent("1e400")),
      'Field "f" must be an ISO 8601 date-time',
    );
  });
});

Deno.test("fieldCheck() json null: SQL NULL when nullable, else the JSON document null", () => {
  assert.equal(check({ type: "json", nullable: true })(null), null);
  assert.equal(check({ type: "json" })(null), "null");
  assert.equal(check({ type: "json", nullable: true })(sent("null")), null);
});

const MONGO = compileTemplate(
  "tpl/mjx.toml",
  `[template]
name = "mjx"
store = "mongodb"
database = "lab"
collection = "things"

[fields.id]
type = "string"

[fields.doc]
type = "json"

[ops.update]
params = ["id", "doc"]
key = ["id"]
`,
);

/** The MongoDB document of an update whose `doc` is `literal`, through the field check. */
function mongoDoc(literal: string): Record<string, unknown> {
  const value = MONGO.checks.get("doc")!(sent(literal));
  return documentOf({ template: MONGO, values: new Map([["doc", value]]), fields: ["doc"] });
}

Deno.test("documentOf() stores a json value's exact integer as a 64-bit integer and refuses other such numbers", async (t) => {
  await t.step("an integer within 64 bits is a Long, at any depth", () => {
    const { doc } = mongoDoc('{"order_id":9007199254740993,"list":[1,-9223372036854775808],"n":0.5}') as {
      doc: { order_id: unknown; list: unknown[]; n: unknown };
    };
    assert.ok(doc.order_id instanceof Long);
    assert.equal(String(doc.order_id), "9007199254740993");
    assert.equal(doc.list[0], 1);
    assert.ok(doc.list[1] instanceof Long);
    assert.equal(String(doc.list[1]), "-9223372036854775808");
    assert.equal(doc.n, 0.5);
    assert.equal(String(mongoDoc("9007199254740993e1").doc), "90071992547409930");
  });
  await t.step("a fraction, or an integer past 64 bits, is VALIDATION naming the field", () => {
    const why =
      "which MongoDB cannot store exactly (a double keeps about 16 digits, a 64-bit integer up to " +
      "2^63−1): send it as a string";
    assertInvalid(
      () => mongoDoc('{"amount":1234567890.123456789012}'),
      `Field "doc" holds the number 1234567890.123456789012, ${why}`,
      "doc",
    );
    assertInvalid(
      () => mongoDoc("[9223372036854775808]"),
      `Field "doc" holds the number 9223372036854775808, ${why}`,
      "doc",
    );
    assertInvalid(() => mongoDoc('{"x":{"y":1e400}}'), `Field "doc" holds the number 1e400, ${why}`, "doc");
    assertInvalid(
      () => mongoDoc(`1.${"0".repeat(60)}1`),
      `Field "doc" holds the number 1.${"0".repeat(38)}…, ${why}`,
      "doc",
    );
  });
  await t.step("a json document without such numbers is stored as before", () => {
    assert.deepEqual(mongoDoc('{"a":[1,2.5,"9007199254740993"],"b":null}'), {
      doc: { a: [1, 2.5, "9007199254740993"], b: null },
    });
  });
});

/** An adapter that records the values of every call, inside a transaction too, and answers one row. */
function recordingAdapter(): Adapter & { seen: unknown[] } {
  const seen: unknown[] = [];
  const record = (input: { values?: unknown; key?: unknown; where?: unknown }) => {
    seen.push(input.values ?? input.key ?? input.where);
    return Promise.resolve({ data: { id: 7 }, rows: 1 });
  };
  const scope = { create: record, read: record, update: record, delete: record, call: record };
  return {
    store: "mariadb",
    ...scope,
    seen,
    transaction: (work) => work(scope),
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
}

Deno.test("dispatch() hands a REL part and a TXN step the exact value of the request", async (t) => {
  const registry = createRegistry(await loadTemplates(`${Deno.cwd()}/templates`));
  const limits = {
    max_body_bytes: 65536,
    max_reply_bytes: 16_777_216,
    default_read_limit: 100,
    max_read_limit: 1000,
  };
  const ops = new Set<Op>(["create", "read", "update", "delete", "call"]);
  const dispatchText = async (text: string) => {
    const adapter = recordingAdapter();
    await dispatch(decode(text), ops, {
      registry: () => registry,
      adapters: new Map([["mariadb", adapter]]),
      limits,
    });
    return adapter.seen;
  };
  await t.step("a REL's key, to each part", async () => {
    const seen = await dispatchText('{"template":"cov","op":"read","key":{"id":9007199254740993}}');
    const customer = seen.find((values) => values instanceof Map && values.has("id")) as Map<string, unknown>;
    assert.equal(customer.get("id"), "9007199254740993");
    const orders = seen.find((values) => values instanceof Map && values.has("customer_id")) as Map<
      string,
      unknown[]
    >;
    assert.deepEqual(orders.get("customer_id"), ["9007199254740993"]);
  });
  await t.step("a TXN's data, to each step", async () => {
    const seen = await dispatchText(
      '{"template":"cat","op":"create","data":{"a_sku":"ABC-0001","a_name":"A","b_sku":"ABC-0002","b_name":"B",' +
        '"price":1234567890.123456789012,"stock":9007199254740993}}',
    );
    const [first, second, stock] = seen as Array<Map<string, unknown>>;
    assert.equal(first!.get("price"), "1234567890.123456789012");
    assert.equal(second!.get("price"), "1234567890.123456789012");
    assert.equal(stock!.get("stock"), "9007199254740993");
  });
});
