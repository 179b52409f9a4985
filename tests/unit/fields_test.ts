import assert from "node:assert/strict";
import fc from "fast-check";
import { codePoints, type FieldCheck, fieldCheck } from "../../src/templates/fields.ts";
import { compareDecimal } from "../../src/templates/decimal_text.ts";
import type { FieldSpec } from "../../src/templates/schema.ts";
import { BedsError } from "../../src/errors.ts";

function check(spec: Partial<FieldSpec> & Pick<FieldSpec, "type">, name = "f"): FieldCheck {
  return fieldCheck(name, { required: false, nullable: false, ...spec });
}

/** Asserts that `fn` throws a VALIDATION BedsError with `message` naming `field`. */
function assertInvalid(fn: () => unknown, message: string, field = "f"): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BedsError, `expected a BedsError, got ${error}`);
    assert.equal(error.code, "VALIDATION");
    assert.equal(error.message, message);
    assert.deepEqual(error.details, { field });
    return true;
  });
}

Deno.test("fieldCheck() string: accepts strings and rejects other types", async (t) => {
  const c = check({ type: "string" }, "name");
  await t.step("accepts a string, including the empty string", () => {
    assert.equal(c("Ada"), "Ada");
    assert.equal(c(""), "");
  });
  for (const [value, got] of [[1, "number"], [true, "boolean"], [[], "array"], [{}, "object"]] as const) {
    await t.step(`rejects ${got}`, () => {
      assertInvalid(() => c(value), `Field "name" must be a string, got ${got}`, "name");
    });
  }
});

Deno.test("fieldCheck() string: an unpaired surrogate is refused (stored as U+FFFD, two texts would be one)", () => {
  const c = check({ type: "string" }, "name");
  for (const text of ["a\ud800b", "a\udfffb", "x\ud83d", "\udc00"]) {
    assertInvalid(() => c(text), 'Field "name" is not well-formed Unicode (an unpaired surrogate)', "name");
  }
  assert.equal(c("a\ud83d\ude00b"), "a😀b");
});

Deno.test("fieldCheck() string: min_length and max_length count characters, not UTF-16 units", async (t) => {
  const c = check({ type: "string", min_length: 2, max_length: 3 });
  await t.step("within bounds", () => {
    assert.equal(c("ab"), "ab");
    assert.equal(c("abc"), "abc");
  });
  await t.step("too short", () => {
    assertInvalid(() => c("a"), 'Field "f" must be at least 2 characters');
  });
  await t.step("too long", () => {
    assertInvalid(() => c("abcd"), 'Field "f" must be at most 3 characters');
  });
  await t.step("three emoji are three characters (six UTF-16 units)", () => {
    assert.equal("😀😀😀".length, 6);
    assert.equal(c("😀😀😀"), "😀😀😀");
  });
  await t.step("four emoji are too long", () => {
    assertInvalid(() => c("😀😀😀😀"), 'Field "f" must be at most 3 characters');
  });
  await t.step("one emoji is too short", () => {
    assertInvalid(() => c("😀"), 'Field "f" must be at least 2 characters');
  });
  await t.step("accented letters count once", () => {
    assert.equal(c("ñé"), "ñé");
  });
});

Deno.test("fieldCheck() string: pattern must match", async (t) => {
  const c = check({ type: "string", pattern: "^[A-Z]{3}-[0-9]{4}$" }, "sku");
  await t.step("matches", () => assert.equal(c("ABC-1234"), "ABC-1234"));
  await t.step("does not match", () => {
    assertInvalid(() => c("abc-1234"), 'Field "sku" does not match its pattern', "sku");
    assertInvalid(() => c("ABC-12345"), 'Field "sku" does not match its pattern', "sku");
  });
  await t.step("the pattern is unicode-aware", () => {
    const u = check({ type: "string", pattern: "^.$" });
    assert.equal(u("😀"), "😀");
  });
});

Deno.test("fieldCheck() enum: only listed values pass", async (t) => {
  const s = check({ type: "string", enum: ["active", "suspended"] }, "status");
  await t.step("a listed string", () => assert.equal(s("active"), "active"));
  await t.step("an unlisted string", () => {
    assertInvalid(() => s("deleted"), 'Field "status" must be one of active, suspended', "status");
  });
  await t.step("a listed number on an int field", () => {
    const n = check({ type: "int", enum: [1, 2, 3] });
    assert.equal(n(2), 2);
    assertInvalid(() => n(4), 'Field "f" must be one of 1, 2, 3');
  });
  await t.step("the type check runs before the enum check", () => {
    assertInvalid(() => s(1), 'Field "status" must be a string, got number', "status");
  });
});

Deno.test("fieldCheck() int: safe integers within range", async (t) => {
  const c = check({ type: "int", min: 1, max: 10 });
  await t.step("accepts integers in range", () => {
    assert.equal(c(1), 1);
    assert.equal(c(10), 10);
  });
  await t.step("range", () => {
    assertInvalid(() => c(0), 'Field "f" must be at least 1');
    assertInvalid(() => c(11), 'Field "f" must be at most 10');
  });
  const any = check({ type: "int" });
  await t.step("rejects fractions, unsafe integers and numeric strings", () => {
    const message = (type: string) => `Field "f" must be an integer, got ${type}`;
    assertInvalid(() => any(1.5), message("number"));
    assertInvalid(() => any(2 ** 53), 'Field "f" is past ±(2^53−1): send the string of its digits');
    assertInvalid(() => any(Number.NaN), message("number"));
    assertInvalid(() => any("5"), message("string"));
    assertInvalid(() => any(true), message("boolean"));
  });
  await t.step("accepts the largest safe integer and negatives", () => {
    assert.equal(any(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    assert.equal(any(-7), -7);
  });
});

Deno.test("fieldCheck() int: past ±(2^53−1) the string of its digits, as replies give a BIGINT", async (t) => {
  const any = check({ type: "int" });
  await t.step("passes the digits on as they are", () => {
    assert.equal(any("9007199254740992"), "9007199254740992");
    assert.equal(any("-9007199254740992"), "-9007199254740992");
    assert.equal(any("-9223372036854775808"), "-9223372036854775808");
    assert.equal(any("18446744073709551615"), "18446744073709551615");
  });
  await t.step("refuses what a BIGINT cannot hold", () => {
    assertInvalid(() => any("18446744073709551616"), 'Field "f" is past what a BIGINT holds');
    assertInvalid(() => any("-9223372036854775809"), 'Field "f" is past what a BIGINT holds');
  });
  await t.step("refuses other texts: a small integer travels as a number", () => {
    for (
      const text of [
        "9007199254740991",
        "42",
        "0042",
        "-0",
        "+9007199254740993",
        "9007199254740993.0",
        "1e20",
        " 1",
      ]
    ) {
      assertInvalid(
        () => any(text),
        'Field "f" must be an integer, got string',
      );
    }
  });
  await t.step("min and max hold for big values too", () => {
    const positive = check({ type: "int", min: 1, max: 1e19 });
    assert.equal(positive("9223372036854775807"), "9223372036854775807");
    assertInvalid(() => positive("-9007199254740993"), 'Field "f" must be at least 1');
    assertInvalid(() => positive("18446744073709551615"), 'Field "f" must be at most 10000000000000000000');
  });
});

Deno.test("fieldCheck() number: finite numbers within range", async (t) => {
  const c = check({ type: "number", min: -1.5, max: 2.5 });
  await t.step("accepts finite numbers", () => {
    assert.equal(c(0.25), 0.25);
    assert.equal(c(-1.5), -1.5);
  });
  await t.step("range", () => {
    assertInvalid(() => c(-1.6), 'Field "f" must be at least -1.5');
    assertInvalid(() => c(2.6), 'Field "f" must be at most 2.5');
  });
  await t.step("rejects non-finite numbers and strings", () => {
    assertInvalid(() => c(Number.POSITIVE_INFINITY), 'Field "f" must be a number, got number');
    assertInvalid(() => c(Number.NaN), 'Field "f" must be a number, got number');
    assertInvalid(() => c("1"), 'Field "f" must be a number, got string');
  });
});

Deno.test("fieldCheck() decimal: numbers and numeric strings, normalised to a string", async (t) => {
  const c = check({ type: "decimal", min: 0 }, "price");
  await t.step('"12.50" stays "12.50"', () => assert.equal(c("12.50"), "12.50"));
  await t.step('12.5 becomes "12.5"', () => assert.equal(c(12.5), "12.5"));
  await t.step('12 becomes "12"', () => assert.equal(c(12), "12"));
  await t.step("a negative decimal", () => assert.equal(check({ type: "decimal" })("-0.01"), "-0.01"));
  for (const value of ["1e5", "abc", "", "1.", ".5", "1,5", " 1", "0x10"]) {
    await t.step(`rejects ${JSON.stringify(value)}`, () => {
      assertInvalid(() => c(value), 'Field "price" must be a decimal number or numeric string', "price");
    });
  }
  await t.step("rejects a boolean and a non-finite number", () => {
    assertInvalid(() => c(true), 'Field "price" must be a decimal number or numeric string', "price");
    assertInvalid(
      () => c(Number.POSITIVE_INFINITY),
      'Field "price" must be a decimal number or numeric string',
      "price",
    );
  });
  await t.step("range applies to the numeric value", () => {
    assertInvalid(() => c("-1.00"), 'Field "price" must be at least 0', "price");
  });
});

Deno.test("fieldCheck() decimal: min, max and enum compare exactly, not as doubles", async (t) => {
  await t.step("just past a bound is refused", () => {
    assertInvalid(
      () => check({ type: "decimal", max: 100 })("100.000000000000001"),
      'Field "f" must be at most 100',
    );
    assertInvalid(
      () => check({ type: "decimal", min: 0.01 })("0.0099999999999999999"),
      'Field "f" must be at least 0.01',
    );
    assertInvalid(
      () => check({ type: "decimal", max: 9007199254740992 })("9007199254740993"),
      'Field "f" must be at most 9007199254740992',
    );
    assertInvalid(
      () => check({ type: "decimal", min: -1 })("-1.0000000000000000001"),
      'Field "f" must be at least -1',
    );
  });
  await t.step("the bounds themselves pass, however written", () => {
    assert.equal(check({ type: "decimal", max: 100 })("100.000"), "100.000");
    assert.equal(check({ type: "decimal", min: 0.01 })("0.010"), "0.010");
    assert.equal(check({ type: "decimal", min: -1, max: 0 })("-0.00"), "-0.00");
  });
  await t.step("an enum value matches whatever its zeros", () => {
    const c = check({ type: "decimal", enum: ["1.50", 2, "-0.5"] });
    assert.equal(c("1.5"), "1.5");
    assert.equal(c("01.500"), "01.500");
    assert.equal(c(2), "2");
    assert.equal(c("2.0"), "2.0");
    assert.equal(c(-0.5), "-0.5");
    assertInvalid(() => c("1.51"), 'Field "f" must be one of 1.50, 2, -0.5');
  });
  await t.step("compareDecimal() orders like the numbers", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
        fc.nat(30),
        (a, b, scale) => {
          const text = (n: bigint) => {
            const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, "0");
            const point = digits.length - scale;
            return `${n < 0n ? "-" : ""}${digits.slice(0, point)}${scale ? `.${digits.slice(point)}` : ""}`;
          };
          assert.equal(compareDecimal(text(a), text(b)), a < b ? -1 : a > b ? 1 : 0);
        },
      ),
    );
  });
});

Deno.test("fieldCheck() decimal: declared precision and scale bound the digits", async (t) => {
  const c = check({ type: "decimal", precision: 6, scale: 2 }, "price");
  await t.step("within DECIMAL(6,2)", () => {
    assert.equal(c("9999.99"), "9999.99");
    assert.equal(c("-0.5"), "-0.5");
    assert.equal(c(12), "12");
  });
  await t.step("too many digits after the point", () => {
    assertInvalid(
      () => c("1.234"),
      'Field "price" must have at most 2 digits after the decimal point',
      "price",
    );
  });
  await t.step("too many digits before the point", () => {
    assertInvalid(
      () => c("10000"),
      'Field "price" must have at most 4 digits before the decimal point',
      "price",
    );
  });
  await t.step("undeclared digits are not limited here", () => {
    assert.equal(check({ type: "decimal" })("123456789012345678901.12345"), "123456789012345678901.12345");
  });
  await t.step("the whole part may have as many digits as MariaDB's DECIMAL(65)", () => {
    const whole = "9".repeat(65);
    assert.equal(check({ type: "decimal", precision: 65, scale: 0 })(whole), whole);
    assertInvalid(
      () => check({ type: "decimal", precision: 65, scale: 0 })(`${whole}9`),
      'Field "f" must be a decimal number or numeric string',
    );
    assertInvalid(
      () => check({ type: "decimal", precision: 40, scale: 0 })("9".repeat(41)),
      'Field "f" must have at most 40 digits before the decimal point',
    );
  });
});

Deno.test("fieldCheck() decimal: a number JavaScript writes with an exponent is taken in plain notation", async (t) => {
  const cases: Array<[number, string]> = [
    [0.00000001, "0.00000001"],
    [5e-7, "0.0000005"],
    [-1.25e-7, "-0.000000125"],
    [1e21, "1000000000000000000000"],
    [1.5e25, "15000000000000000000000000"],
  ];
  for (const [value, text] of cases) {
    await t.step(`${value} is "${text}"`, () => assert.equal(check({ type: "decimal" })(value), text));
  }
  await t.step("declared digits still bound it", () => {
    assertInvalid(
      () => check({ type: "decimal", precision: 10, scale: 4 })(5e-7),
      'Field "f" must have at most 4 digits after the decimal point',
    );
    assert.equal(check({ type: "decimal", precision: 30, scale: 8 })(1e-8), "0.00000001");
    assert.equal(check({ type: "decimal", precision: 30, scale: 0 })(1e21), "1000000000000000000000");
  });
  await t.step("any double with at most 41 digits before and 27 after the point reads back as itself", () => {
    const bounded = fc.double({ noNaN: true, min: -1e40, max: 1e40 }).filter((n) =>
      n === 0 || Math.abs(n) >= 1e-10
    );
    fc.assert(
      fc.property(bounded, (n) => {
        const text = check({ type: "decimal" })(n) as string;
        assert.match(text, /^-?\d+(\.\d+)?$/);
        assert.ok(Number(text) === n, `${text} is not ${n}`); // -0 is written 0, as String(-0) is
      }),
    );
  });
});

Deno.test("fieldCheck() boolean", async (t) => {
  const c = check({ type: "boolean" });
  await t.step("accepts true and false", () => {
    assert.equal(c(true), true);
    assert.equal(c(false), false);
  });
  await t.step("takes 1 and 0, as MariaDB reads a BOOLEAN column, as true and false", () => {
    assert.equal(c(1), true);
    assert.equal(c(0), false);
  });
  await t.step("rejects other numbers and strings", () => {
    for (const value of [2, -1, 0.5, 1.0000001]) {
      assertInvalid(() => c(value), 'Field "f" must be a boolean (or 1 or 0), got number');
    }
    assertInvalid(() => c("true"), 'Field "f" must be a boolean (or 1 or 0), got string');
    assertInvalid(() => c("1"), 'Field "f" must be a boolean (or 1 or 0), got string');
  });
});

Deno.test("fieldCheck() date: YYYY-MM-DD", async (t) => {
  const c = check({ type: "date" });
  await t.step("accepts a date", () => assert.equal(c("2024-02-29"), "2024-02-29"));
  await t.step("accepts a date as a reply gives it back: midnight UTC", () => {
    assert.equal(c("2024-02-29T00:00:00.000Z"), "2024-02-29");
    assert.equal(c("2024-02-29T00:00:00Z"), "2024-02-29");
  });
  for (
    const value of [
      "2024-2-29",
      "2024-02-29T00:00:00+02:00",
      "2024-02-29T01:00:00.000Z",
      "2024-02-30T00:00:00.000Z",
      "2024-02-29T00:00:00.001Z",
      "29/02/2024",
      20240229,
      "2024-02-30",
      "2023-02-29",
      "1900-02-29",
      "2024-04-31",
      "2024-13-01",
      "2024-00-10",
      "2024-01-00",
    ]
  ) {
    await t.step(`rejects ${JSON.stringify(value)}`, () => {
      assertInvalid(() => c(value), 'Field "f" must be a date YYYY-MM-DD');
    });
  }
});

Deno.test("fieldCheck() datetime: ISO 8601, passed on as the databases take it (UTC when zoned)", async (t) => {
  const c = check({ type: "datetime" });
  for (
    const [value, stored] of [
      ["2024-01-02T03:04:05Z", "2024-01-02 03:04:05.000"],
      ["2024-01-02 03:04", "2024-01-02 03:04:00.000"],
      ["2024-01-02T03:04:05.5", "2024-01-02 03:04:05.500"],
      ["2024-01-02T03:04:05.123400", "2024-01-02 03:04:05.1234"],
      ["2024-01-02T03:04:05.123456+02:00", "2024-01-02 01:04:05.123456"],
      ["2024-01-01T23:30:00.1-01:00", "2024-01-02 00:30:00.100"],
      ["2024-01-02T03:04Z", "2024-01-02 03:04:00.000"],
      ["2024-01-02T05:04:00+02:00", "2024-01-02 03:04:00.000"],
    ]
  ) {
    await t.step(`accepts ${value} as ${stored}`, () => assert.equal(c(value), stored));
  }
  for (
    const value of [
      "2024-01-02",
      "2024-01-02T3:04",
      "2024-02-30T00:00:00Z",
      "2024-01-08T25:61",
      "2024-01-08T23:60:00",
      "2024-01-08T23:59:60",
      "yesterday",
      1_700_000_000_000,
      // A zone that moves the time past the four-digit years.
      "9999-12-31T23:30:00-01:00",
      "0000-01-01T00:30:00+01:00",
    ]
  ) {
    await t.step(`rejects ${JSON.stringify(value)}`, () => {
      assertInvalid(() => c(value), 'Field "f" must be an ISO 8601 date-time');
    });
  }
});

Deno.test("fieldCheck() date and datetime take a Date (a part's value read by the driver) as its UTC text", () => {
  const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120));
  assert.equal(check({ type: "datetime" })(at), "2024-01-02 03:04:05.120");
  assert.equal(check({ type: "date" })(new Date(Date.UTC(2024, 1, 29))), "2024-02-29");
  assertInvalid(() => check({ type: "datetime" })(new Date(NaN)), 'Field "f" must be an ISO 8601 date-time');
  assertInvalid(() => check({ type: "date" })(new Date(NaN)), 'Field "f" must be a date YYYY-MM-DD');
  assertInvalid(() => check({ type: "string" })(at), 'Field "f" must be a string, got object');
});

Deno.test("fieldCheck() json: any value, serialised to JSON text", () => {
  const c = check({ type: "json" });
  assert.equal(c({ a: [1, "x"] }), '{"a":[1,"x"]}');
  assert.equal(c([1, 2]), "[1,2]");
  assert.equal(c("s"), '"s"');
  assert.equal(c(3), "3");
  assert.equal(c(null), "null");
});

Deno.test("fieldCheck() null: accepted only when nullable", async (t) => {
  await t.step("nullable returns null", () => {
    assert.equal(check({ type: "int", nullable: true })(null), null);
    assert.equal(check({ type: "string", nullable: true, enum: ["a"] })(null), null);
  });
  await t.step("not nullable rejects null", () => {
    assertInvalid(() => check({ type: "int" }, "qty")(null), 'Field "qty" must not be null', "qty");
    assertInvalid(() => check({ type: "string" })(null), 'Field "f" must not be null');
  });
  await t.step("undefined is reported as missing", () => {
    assertInvalid(() => check({ type: "string", nullable: true })(undefined), 'Field "f" is missing');
  });
});

Deno.test("codePoints() counts as the spread of the string does, lone surrogates included", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 40 }),
      (text) => codePoints(text) === [...text].length,
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0xd7f0, max: 0xe010 }), { maxLength: 12 }),
      (units) => {
        const text = String.fromCharCode(...units);
        return codePoints(text) === [...text].length;
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(codePoints("a😀b"), 3);
  assert.equal(codePoints("\ud83d"), 1);
  assert.equal(codePoints(""), 0);
});
