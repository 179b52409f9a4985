/**
 * Checked values in the form MongoDB keeps them. A `datetime` is kept to the
 * millisecond, as a BSON date holds it: the
 * check passes microseconds on, and a text stored with them would match
 * no value a reply gives back (a reply's `Date` holds milliseconds), so a
 * client could not find again what it read. A field that declares a `bson`
 * type is stored as that type (an ObjectId, a date, a Decimal128), as other
 * programs writing the same collection keep it. An `int` past ±(2^53−1),
 * which a request carries as the text of its digits, is stored and matched
 * as a 64-bit integer, and so is an integer in a `json` value that a double
 * would change. Pure.
 *
 * @module
 */
import { Decimal128, Long, ObjectId } from "mongodb";
import { BedsError } from "../../errors.ts";
import { literalInteger, type RawNumber } from "../../protocol/exact_numbers.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { Values } from "../types.ts";
import type { Doc } from "./filters.ts";

/** `YYYY-MM-DD HH:MM:SS.mmm`: a checked date-time text without its microseconds. */
const MILLISECONDS = 23;

function stored(template: Pick<RecTemplate, "fields">, field: string, value: unknown): unknown {
  const isDateTime = Object.hasOwn(template.fields, field) && template.fields[field]!.type === "datetime";
  return isDateTime && typeof value === "string" ? value.slice(0, MILLISECONDS) : value;
}

/** `values` as stored: date-times to the millisecond. */
export function storedValues(template: Pick<RecTemplate, "fields">, values: Values): Values {
  return new Map([...values].map(([field, value]) => [field, stored(template, field, value)]));
}

/** A read's `where` lists as stored: date-times to the millisecond. */
export function storedWhere(
  template: Pick<RecTemplate, "fields">,
  where: ReadonlyMap<string, readonly unknown[]>,
): ReadonlyMap<string, readonly unknown[]> {
  return new Map(
    [...where].map(([field, list]) => [field, list.map((value) => stored(template, field, value))]),
  );
}

const HEX_ID = /^[0-9a-f]{24}$/i;

function invalidValue(field: string, text: string): never {
  throw new BedsError("VALIDATION", `Field "${field}" ${text}`, { details: { field } });
}

/** A checked value as the BSON type its field declares. */
function asBson(field: string, bson: "objectId" | "date" | "decimal128", value: unknown): unknown {
  if (typeof value !== "string") return value;
  switch (bson) {
    case "objectId":
      if (!HEX_ID.test(value)) invalidValue(field, "must be an ObjectId: 24 hexadecimal digits");
      return ObjectId.createFromHexString(value);
    case "date": {
      // A checked date (`YYYY-MM-DD`) or date-time (`YYYY-MM-DD HH:MM:SS.mmm`, UTC).
      const date = new Date(
        value.length === 10 ? `${value}T00:00:00.000Z` : `${value.slice(0, 10)}T${value.slice(11)}Z`,
      );
      // The driver would store an invalid Date as the epoch, without a word.
      if (Number.isNaN(date.getTime())) invalidValue(field, "must be a date-time MongoDB can store");
      return date;
    }
    case "decimal128":
      try {
        return Decimal128.fromString(value);
      } catch {
        // More significant digits than Decimal128's 34: it would round them.
        return invalidValue(field, "has more digits than a Decimal128 holds (34)");
      }
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/** A checked `int` past ±(2^53−1) (the text of its digits) as a 64-bit integer; others as they are. */
function asInt64(field: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  const n = BigInt(value);
  if (n > INT64_MAX) invalidValue(field, "is past what MongoDB's 64-bit integer holds");
  return Long.fromBigInt(n);
}

const INT64_MIN = -(2n ** 63n);

/**
 * A number in field `field`'s `json` value that a double would change (kept as its literal by the
 * exact parse of the request): an integer within 64 bits as a 64-bit integer, as an `int` past
 * ±(2^53−1) is stored. Any other is VALIDATION: MongoDB would keep it as a double, another number
 * than the one sent, and a Decimal128 would be read back as a string.
 */
export function exactJsonNumber(field: string, raw: RawNumber): Long {
  const n = literalInteger(raw);
  if (typeof n === "bigint" && n >= INT64_MIN && n <= INT64_MAX) return Long.fromBigInt(n);
  const shown = raw.rawJSON.length > 40 ? `${raw.rawJSON.slice(0, 40)}…` : raw.rawJSON;
  return invalidValue(
    field,
    `holds the number ${shown}, which MongoDB cannot store exactly (a double keeps about 16 digits, a ` +
      "64-bit integer up to 2^63−1): send it as a string",
  );
}

/**
 * A built filter or document with the values of fields that declare a `bson` type as that type,
 * and of `int` fields past ±(2^53−1) as 64-bit integers: a field's value, or each of an `$in` list.
 */
export function bsonDoc(template: Pick<RecTemplate, "fields">, doc: Doc): Doc {
  for (const [field, value] of Object.entries(doc)) {
    const spec = Object.hasOwn(template.fields, field) ? template.fields[field]! : undefined;
    const bson = spec?.bson;
    const convert = bson
      ? (item: unknown) => asBson(field, bson, item)
      : spec?.type === "int"
      ? (item: unknown) => asInt64(field, item)
      : undefined;
    if (!convert) continue;
    const list = (value as { $in?: unknown } | null)?.$in;
    doc[field] = Array.isArray(list) ? { $in: list.map(convert) } : convert(value);
  }
  return doc;
}
