/**
 * Per-field value validators built once from a template's `[fields]`. A
 * value that does not match its declared type is a `VALIDATION` error, so
 * nothing but declared scalars ever reaches an adapter.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import { exactInteger, isRawNumber, literalInteger } from "../protocol/number_literals.ts";
import {
  canonicalDecimal,
  compareDecimal,
  DECIMAL,
  DECIMAL_FRACTION,
  DECIMAL_WHOLE,
  decimalText,
  plainNumber,
  rawDecimal,
} from "./decimal_text.ts";
import { calendarDay, DATE, DATETIME, isoText, READ_DATE, utcDateTime } from "./date_text.ts";
import { DECIMAL_DEFAULTS, type FieldSpec } from "./schema.ts";

/** Checks one value; returns it normalised or throws `VALIDATION`. */
export type FieldCheck = (value: unknown) => unknown;

/** An integer's digits, without leading zeros or a negative zero. */
const INTEGER_TEXT = /^(?:0|-?[1-9]\d{0,19})$/;
/** What a BIGINT holds, signed or UNSIGNED: −2^63 … 2^64−1. */
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 64n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An integer past ±(2^53−1) as replies give a BIGINT: the text of its digits, passed on as it is (a
 * number would round it; MariaDB compares and converts such a text exactly). Undefined for any
 * other value, a text of a smaller integer included: that travels as a number.
 */
function bigIntegerText(value: unknown): { text: string; n: bigint } | undefined {
  if (typeof value !== "string" || !INTEGER_TEXT.test(value)) return undefined;
  const n = BigInt(value);
  return n > SAFE_MAX || n < -SAFE_MAX ? { text: value, n } : undefined;
}

function fail(field: string, reason: string): never {
  throw new BedsError("VALIDATION", `Field "${field}" ${reason}`, { details: { field } });
}

/** Length in code points, as the limits count it, without building an array of them. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function typeOf(value: unknown): string {
  if (isRawNumber(value)) return "number";
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** Builds the check for field `name` declared as `spec`. */
export function fieldCheck(name: string, spec: FieldSpec): FieldCheck {
  const pattern = spec.pattern === undefined ? undefined : new RegExp(spec.pattern, "u");
  // A decimal's values are compared as numbers, not texts: "1.5" is the "1.50" the template lists.
  const allowed = spec.enum === undefined ? undefined : new Set<unknown>(
    spec.type === "decimal" ? spec.enum.map((v) => canonicalDecimal(decimalText(v))) : spec.enum,
  );
  const limited = spec.min_length !== undefined || spec.max_length !== undefined;

  const checkRange = (n: number | bigint) => {
    if (spec.min !== undefined && n < spec.min) fail(name, `must be at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) fail(name, `must be at most ${spec.max}`);
  };

  // Only declared digits are enforced: without them the column's own type decides.
  const checkDigits = (text: string) => {
    if (spec.precision === undefined && spec.scale === undefined) return;
    const scale = spec.scale ?? DECIMAL_DEFAULTS.scale;
    const whole = (spec.precision ?? DECIMAL_DEFAULTS.precision) - scale;
    const [int = "", fraction = ""] = text.replace(/^-/, "").split(".");
    if (fraction.length > scale) fail(name, `must have at most ${scale} digits after the decimal point`);
    if (int.replace(/^0+/, "").length > whole) {
      fail(name, `must have at most ${whole} digits before the decimal point`);
    }
  };

  const checkType = (value: unknown): unknown => {
    switch (spec.type) {
      case "string": {
        if (typeof value !== "string") fail(name, `must be a string, got ${typeOf(value)}`);
        const length = limited ? codePoints(value) : 0;
        if (spec.min_length !== undefined && length < spec.min_length) {
          fail(name, `must be at least ${spec.min_length} characters`);
        }
        if (spec.max_length !== undefined && length > spec.max_length) {
          fail(name, `must be at most ${spec.max_length} characters`);
        }
        if (pattern && !pattern.test(value)) fail(name, "does not match its pattern");
        // Half of a surrogate pair alone (JSON's "\ud800") is no character: the databases store it as
        // U+FFFD, so two different texts would become one.
        if (!value.isWellFormed()) fail(name, "is not well-formed Unicode (an unpaired surrogate)");
        return value;
      }
      case "int": {
        if (isRawNumber(value)) {
          // Its digits, which a double would have changed: taken as exactly as the string of them.
          const n = literalInteger(value);
          if (n === "fraction") fail(name, "must be an integer, got number");
          if (n === "huge" || n < BIGINT_MIN || n > BIGINT_MAX) fail(name, "is past what a BIGINT holds");
          checkRange(n);
          return exactInteger(n);
        }
        const big = bigIntegerText(value);
        if (big) {
          if (big.n < BIGINT_MIN || big.n > BIGINT_MAX) fail(name, "is past what a BIGINT holds");
          checkRange(big.n);
          return big.text;
        }
        if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
          // A double past 2^53 whose digits are its own (2^53, 1e20): most likely one a client's own
          // double already rounded (9007199254740993 in JavaScript is 2^53), so it is not taken.
          fail(name, "is past ±(2^53−1): send the string of its digits");
        }
        if (typeof value !== "number" || !Number.isSafeInteger(value)) {
          fail(name, `must be an integer, got ${typeOf(value)}`);
        }
        checkRange(value);
        return value;
      }
      case "number": {
        // A double field holds the double nearest the literal, as a double column would.
        const n = isRawNumber(value) ? Number(value.rawJSON) : value;
        if (isRawNumber(value) && !Number.isFinite(n)) fail(name, "is past what a double holds");
        if (typeof n !== "number" || !Number.isFinite(n)) {
          fail(name, `must be a number, got ${typeOf(value)}`);
        }
        checkRange(n);
        return n;
      }
      case "decimal": {
        const exact = isRawNumber(value)
          ? rawDecimal(value) ??
            fail(
              name,
              `is past what a DECIMAL holds (${DECIMAL_WHOLE} digits, ${DECIMAL_FRACTION} of them after the point)`,
            )
          : undefined;
        const text = exact ??
          (typeof value === "number" && Number.isFinite(value) ? plainNumber(value) : value);
        if (typeof text !== "string" || !DECIMAL.test(text)) {
          fail(name, "must be a decimal number or numeric string");
        }
        checkDigits(text);
        // Exactly: a double rounds 100.000000000000001 onto a max of 100.
        if (spec.min !== undefined && compareDecimal(text, decimalText(spec.min)) < 0) {
          fail(name, `must be at least ${spec.min}`);
        }
        if (spec.max !== undefined && compareDecimal(text, decimalText(spec.max)) > 0) {
          fail(name, `must be at most ${spec.max}`);
        }
        return text;
      }
      case "boolean":
        // MariaDB's BOOLEAN is TINYINT(1): its reads (and a part's or step's result) carry 1 and 0, and a
        // client that writes back what it read, or a part fed from another, must not be refused for it.
        if (value === 1 || value === 0) return value === 1;
        if (typeof value !== "boolean") fail(name, `must be a boolean (or 1 or 0), got ${typeOf(value)}`);
        return value;
      case "date": {
        // A date reads back as midnight UTC (`2024-01-08T00:00:00.000Z`, as the MariaDB driver's `Date`
        // is sent): a client that sends back what it read must not be refused for it.
        const read = typeof value === "string" ? READ_DATE.exec(value)?.[1] : undefined;
        const text = value instanceof Date ? isoText(value)?.slice(0, 10) : read ?? value;
        const day = typeof text === "string" && DATE.test(text) ? text.split("-").map(Number) : [];
        if (!calendarDay(day[0]!, day[1]!, day[2]!)) fail(name, "must be a date YYYY-MM-DD");
        return text;
      }
      case "datetime": {
        const text = value instanceof Date ? isoText(value) : value;
        const utc = typeof text === "string" && DATETIME.test(text) ? utcDateTime(text) : undefined;
        if (utc === undefined) fail(name, "must be an ISO 8601 date-time");
        return utc;
      }
      case "json":
        // A number a double would change is raw JSON of its literal: written as it came.
        return JSON.stringify(value);
    }
  };

  return (value) => {
    if (value === null) {
      if (spec.nullable) return null; // SQL NULL, a json field's too: how a client clears a column
      // A json field that may not be NULL stores the JSON document `null`.
      if (spec.type === "json") return "null";
      fail(name, "must not be null");
    }
    if (value === undefined) fail(name, "is missing");
    const checked = checkType(value);
    const listed = spec.type === "decimal" ? canonicalDecimal(checked as string) : checked;
    if (allowed && !allowed.has(value) && !allowed.has(listed)) {
      fail(name, `must be one of ${spec.enum!.join(", ")}`);
    }
    return checked;
  };
}
