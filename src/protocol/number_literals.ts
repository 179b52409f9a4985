/**
 * A number literal's exact value, and the raw JSON that keeps it: what the
 * parse in exact_numbers.ts decides a literal by, and what the field checks
 * and the MongoDB adapter make of a literal it kept.
 *
 * @module
 */

/** A number literal that a double would change, as `JSON.rawJSON` makes it. */
export type RawNumber = { readonly rawJSON: string };

/** What V8 has and TypeScript's lib does not declare: raw JSON. */
interface JsonWithRaw {
  rawJSON(text: string): RawNumber;
  isRawJSON(value: unknown): value is RawNumber;
}

const json = JSON as unknown as JsonWithRaw;

/** `text`, a number literal, as raw JSON: `JSON.stringify` writes it as it is. */
export const rawNumber = (text: string): RawNumber => json.rawJSON(text);

/**
 * Whether `value` is a literal the exact parse kept (only numbers are ever kept so). The type test
 * first: the field checks ask it of every value, nearly all of them primitives.
 */
export const isRawNumber = (value: unknown): value is RawNumber =>
  typeof value === "object" && value !== null && json.isRawJSON(value);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An exact integer as JSON carries it: a number within ±(2^53−1), else the string of its digits. */
export function exactInteger(value: bigint): number | string {
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
}

const ZERO = 0x30;

/** A number literal as JSON writes it, or as `String` writes a double (`1e+21`). */
const LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** A literal's value: `sign digits × 10^exponent`, with no leading or trailing zeros in `digits`. */
export interface LiteralParts {
  negative: boolean;
  /** The significant digits; `"0"` for every zero (which is never negative). */
  digits: string;
  /** Exact within ±10^15; one written past that is ±10^15 (no double, DECIMAL or BIGINT comes near). */
  exponent: number;
}

/**
 * Where an exponent saturates: written past it, the number is 0 or past every type's range all the
 * same. Exact, a body's exponent of 65,000 digits took 16 ms as a BigInt.
 */
const MAX_EXPONENT = 1e15;

/** The value of a number literal in one form; undefined for what is none (`Infinity`, `NaN`). */
export function literalParts(text: string): LiteralParts | undefined {
  const m = LITERAL.exec(text);
  if (!m) return undefined;
  const [, sign, int = "", fraction = "", exponent = "0"] = m;
  const significant = (int + fraction).replace(/^0+/, "");
  // A loop, not /0+$/: V8 tries that regex at every zero, and a literal of n zeros followed by
  // another digit took n²/2 steps (9 s for 64,000 zeros, in a body of 64 KB).
  let end = significant.length;
  while (end > 0 && significant.charCodeAt(end - 1) === ZERO) end--;
  const digits = significant.slice(0, end);
  if (!digits) return { negative: false, digits: "0", exponent: 0 };
  // Exact arithmetic: within ±10^15, plus or minus a body's length, all stays below 2^53.
  const written = Math.max(-MAX_EXPONENT, Math.min(MAX_EXPONENT, Number(exponent)));
  const scale = written - fraction.length + (significant.length - digits.length);
  return { negative: sign === "-", digits, exponent: scale };
}

/**
 * The integer a literal `parseExact` (exact_numbers.ts) kept denotes (9007199254740993), exactly; `"fraction"` when
 * it has one, `"huge"` past 20 digits, where every 64-bit integer ends (without building a number of
 * a million digits for `1e999999`).
 */
export function literalInteger(raw: RawNumber): bigint | "fraction" | "huge" {
  const { negative, digits, exponent } = literalParts(raw.rawJSON)!;
  if (exponent < 0) return "fraction"; // its digits have no trailing zeros
  if (digits.length + exponent > 20) return "huge";
  const n = BigInt(digits + "0".repeat(exponent));
  return negative ? -n : n;
}

/** `text`'s value as one text (`1.50`, `15e-1` and `0.15E1` are all `15e-1`); undefined for no number. */
export function canonicalNumber(text: string): string | undefined {
  const parts = literalParts(text);
  if (parts?.digits === "0") return "0";
  return parts && `${parts.negative ? "-" : ""}${parts.digits}e${parts.exponent}`;
}

/** An integer without leading zeros, in plain notation. */
const PLAIN_INTEGER = /^-?[1-9]\d*$/;

/**
 * Whether the literal `source` denotes the decimal value of `value`'s shortest form (the digits
 * `String` gives, which read back as the same double). A longer literal of that very double
 * (`0.1000000000000000055511151231257827`) counts as another value: kept raw, it loses nothing.
 */
export function sameNumber(source: string, value: number): boolean {
  const shortest = String(value);
  if (source === shortest) return true;
  // Two integers written plainly are equal only as the same text: a big id (9007199254740993), the
  // most common literal here, is decided without taking both apart (3,600 of them: 3.4 → 1.9 ms).
  if (PLAIN_INTEGER.test(source) && PLAIN_INTEGER.test(shortest)) return false;
  return canonicalNumber(source) === canonicalNumber(shortest);
}

/** Sets an own property, also one named `__proto__` (an assignment would set the prototype). */
export function setOwn(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}
