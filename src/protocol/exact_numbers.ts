/**
 * JSON numbers kept as the client wrote them. `JSON.parse` makes every number
 * a double, so a literal with more digits than a double holds
 * (9007199254740993, 1234567890.123456789012) or past its range (1e400) would
 * silently become another number, and be stored so. {@link parseExact} keeps
 * such a literal as raw JSON (`JSON.rawJSON`) instead: `JSON.stringify` writes
 * it as its text again, and the field checks take its digits as they are.
 *
 * Only a text that can hold such a literal takes the slow path (a reviver on
 * every value): a literal of at most 15 significant digits and an exponent of
 * at most 2 digits always reads back as itself, so a body without a run of 16
 * digits and points, or a 3-digit exponent, is parsed by `JSON.parse` alone.
 *
 * @module
 */

/** A number literal that a double would change, as `JSON.rawJSON` makes it. */
export type RawNumber = { readonly rawJSON: string };

/** What V8 has and TypeScript's lib does not declare: raw JSON and the reviver's source text. */
interface JsonWithSource {
  rawJSON(text: string): RawNumber;
  isRawJSON(value: unknown): value is RawNumber;
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
}

const json = JSON as unknown as JsonWithSource;

/**
 * Whether `value` is a literal {@link parseExact} kept (only numbers are ever kept so). The type test
 * first: the field checks ask it of every value, nearly all of them primitives.
 */
export const isRawNumber = (value: unknown): value is RawNumber =>
  typeof value === "object" && value !== null && json.isRawJSON(value);

/**
 * A run of 16 digits or points, or an exponent of 3 digits: where a literal a double changes can be.
 * The class is written out 16 times: V8 runs `[\d.]{16}` about eight times slower (0.8–1.8 µs on a
 * 73–204 character read body against 0.1–0.2 µs; `JSON.parse` of it takes 0.9–2.8 µs).
 */
const MAY_CHANGE = new RegExp(`${"[\\d.]".repeat(16)}|[eE][+-]?\\d{3}`);

/** Whether `text` may hold a number literal that a double would change (false positives cost time only). */
export function mayChangeNumbers(text: string): boolean {
  return MAY_CHANGE.test(text);
}

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
  const digits = significant.replace(/0+$/, "");
  if (!digits) return { negative: false, digits: "0", exponent: 0 };
  // Exact arithmetic: within ±10^15, plus or minus a body's length, all stays below 2^53.
  const written = Math.max(-MAX_EXPONENT, Math.min(MAX_EXPONENT, Number(exponent)));
  const scale = written - fraction.length + (significant.length - digits.length);
  return { negative: sign === "-", digits, exponent: scale };
}

/** `text`'s value as one text (`1.50`, `15e-1` and `0.15E1` are all `15e-1`); undefined for no number. */
export function canonicalNumber(text: string): string | undefined {
  const parts = literalParts(text);
  if (parts?.digits === "0") return "0";
  return parts && `${parts.negative ? "-" : ""}${parts.digits}e${parts.exponent}`;
}

/**
 * Whether the literal `source` denotes the decimal value of `value`'s shortest form (the digits
 * `String` gives, which read back as the same double). A longer literal of that very double
 * (`0.1000000000000000055511151231257827`) counts as another value: kept raw, it loses nothing.
 */
export function sameNumber(source: string, value: number): boolean {
  const shortest = String(value);
  return source === shortest || canonicalNumber(source) === canonicalNumber(shortest);
}

function keepExact(_key: string, value: unknown, context: { source?: string }): unknown {
  const source = context.source;
  if (typeof value !== "number" || source === undefined || !MAY_CHANGE.test(source)) return value;
  return sameNumber(source, value) ? value : json.rawJSON(source);
}

/**
 * `text` parsed as `JSON.parse` parses it, except that a number whose double is another value than
 * its literal is the {@link RawNumber} of that literal. Throws as `JSON.parse` does.
 */
export function parseExact(text: string): unknown {
  return MAY_CHANGE.test(text) ? json.parse(text, keepExact) : JSON.parse(text);
}

/** Sets an own property, also one named `__proto__` (an assignment would set the prototype). */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `value` with every {@link RawNumber} in it, at any depth, made the double `JSON.parse` would have
 * made of it; changed in place. Walked with a stack of its own: a value may nest deeper than the
 * call stack would take.
 */
export function plainNumbers(value: unknown): unknown {
  if (isRawNumber(value)) return Number(value.rawJSON);
  const pending: unknown[] = [value];
  while (pending.length) {
    const node = pending.pop();
    if (node === null || typeof node !== "object") continue;
    for (const key of Object.keys(node)) {
      const inner = (node as Record<string, unknown>)[key];
      if (isRawNumber(inner)) setOwn(node, key, Number(inner.rawJSON));
      else if (inner !== null && typeof inner === "object") pending.push(inner);
    }
  }
  return value;
}
