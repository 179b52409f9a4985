/**
 * What a MongoDB operation returns, built so that a client cannot tell the
 * stores apart. Only the template's fields: other writers may keep more in
 * a document (a password hash), which the projection does not ask for and
 * the reply would not keep. `datetime` and `date` fields, stored as text,
 * come out as the MariaDB driver reads DATETIME and DATE: a `Date`, on the
 * wire `2024-01-08T09:14:00.000Z` (a date at midnight UTC). BSON values
 * written by other tools become strings or numbers.
 *
 * @module
 */
import type { RecTemplate } from "../../templates/mod.ts";
import type { Doc } from "./filters.ts";

/** A projection or its absence: 1 includes a field, 0 leaves it out. */
export type Projection = Record<string, 0 | 1>;

/** The projection of a template's reads and find-and-modify writes: its fields, never `_id`. */
export function projectionOf(template: Pick<RecTemplate, "fields">): Projection {
  const projection: Projection = { _id: 0 };
  for (const field of Object.keys(template.fields)) projection[field] = 1;
  return projection;
}

/**
 * A stored date (`YYYY-MM-DD`) or date-time (`YYYY-MM-DD HH:MM:SS.mmm[uuu]`, in UTC; older
 * forms with `T`, without seconds or with a zone too), as any text a client may have sent.
 */
const STORED_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * The instant a stored date or date-time text names, to the millisecond as the MariaDB driver
 * reads it (microseconds dropped); undefined when the text names none.
 */
export function storedTime(text: string): Date | undefined {
  const match = STORED_TIME.exec(text);
  if (!match) return undefined;
  const [, day, minutes = "00:00", seconds = "00", fraction = "", zone = "Z"] = match;
  const wall = `${day}T${minutes}:${seconds}.${fraction.slice(0, 3).padEnd(3, "0")}`;
  const utc = new Date(`${wall}Z`);
  // Date.parse rolls February 30th over into March: such a text names no time.
  if (Number.isNaN(utc.getTime()) || utc.toISOString().slice(0, 23) !== wall) return undefined;
  return zone === "Z" ? utc : new Date(`${wall}${zone}`);
}

/**
 * Turns a stored document into the reply: the template's fields only (`_id` is never one: the
 * template's key is the identity), date-times and dates as `Date`s, BSON values as JSON values.
 */
export function plainDocument(doc: Doc, template: Pick<RecTemplate, "fields">): Doc {
  const reply: Doc = {};
  for (const [field, value] of Object.entries(doc)) {
    const spec = Object.hasOwn(template.fields, field) ? template.fields[field] : undefined;
    if (!spec) continue;
    const time = spec.type === "datetime" || spec.type === "date";
    reply[field] = time && typeof value === "string" ? storedTime(value) ?? value : plainValue(value, time);
  }
  return reply;
}

type Bsonish = {
  _bsontype?: unknown;
  sub_type?: unknown;
  toHexString?: () => string;
  toString(encoding?: "hex" | "base64"): string;
};

function plainObject(doc: Doc): Doc {
  return Object.fromEntries(Object.entries(doc).map(([key, value]) => [key, plainValue(value)]));
}

/** A BSON value as JSON; a `Date` kept as one in a date or date-time field, as MariaDB's. */
function plainValue(value: unknown, time = false): unknown {
  if (value instanceof Date) return time ? value : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => plainValue(item));
  if (value === null || typeof value !== "object") return value;
  // The driver gives a stored regular expression as a RegExp, which JSON would make `{}`.
  if (value instanceof RegExp) return String(value);
  const bson = (value as Bsonish)._bsontype;
  if (bson === "ObjectId") return (value as Bsonish).toHexString!();
  if (bson === "Long" || bson === "Int32" || bson === "Double") {
    const n = Number(String(value));
    return Number.isSafeInteger(n) || bson === "Double" ? n : String(value);
  }
  if (bson === "Decimal128") return plainDecimal(String(value));
  if (bson === "Binary") return plainBinary(value as Bsonish);
  if (typeof bson === "string") return String(value);
  return plainObject(value as Doc);
}

/**
 * A BSON Binary as text: a UUID (subtype 4, 16 bytes) as `3b241101-e2bb-4255-8caf-4136c566a962`,
 * other bytes as base64, which keeps them all (as UTF-8 text they would be garbled).
 */
function plainBinary(value: Bsonish): string {
  const hex = value.toString("hex");
  if (value.sub_type !== 4 || hex.length !== 32) return value.toString("base64");
  return hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
}

/**
 * A Decimal128's text in plain notation, as MariaDB gives a DECIMAL: `1E-7` is `0.0000001` and
 * `1.5E+3` is `1500`, which the `decimal` check takes back (it refuses exponents); a negative zero
 * is `0`. NaN and infinities stay as they are.
 */
export function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/i.exec(text);
  if (!m) return text;
  const [, sign, whole = "", fraction = "", exponent = "0"] = m;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent); // digits before the decimal point
  let plain = point <= 0
    ? `0.${"0".repeat(-point)}${digits}`
    : point >= digits.length
    ? `${digits}${"0".repeat(point - digits.length)}`
    : `${digits.slice(0, point)}.${digits.slice(point)}`;
  plain = plain.replace(/^0+(?=\d)/, "");
  return /[1-9]/.test(plain) ? `${sign}${plain}` : plain;
}
