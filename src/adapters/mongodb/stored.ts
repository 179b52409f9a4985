/**
 * Checked values in the form MongoDB keeps them. A `datetime` is kept to the
 * millisecond, as the DATETIME(3) columns of the MariaDB side keep it: the
 * check passes microseconds on, and a text stored with them would match
 * no value a reply gives back (a reply's `Date` holds milliseconds), so a
 * client could not find again what it read. A field that declares a `bson`
 * type is stored as that type (an ObjectId, a date, a Decimal128), as other
 * programs writing the same collection keep it. Pure.
 *
 * @module
 */
import { Decimal128, ObjectId } from "mongodb";
import { BedsError } from "../../errors.ts";
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

/**
 * A built filter or document with the values of fields that declare a `bson` type as that type:
 * a field's value, or each of an `$in` list.
 */
export function bsonDoc(template: Pick<RecTemplate, "fields">, doc: Doc): Doc {
  for (const [field, value] of Object.entries(doc)) {
    const bson = Object.hasOwn(template.fields, field) ? template.fields[field]!.bson : undefined;
    if (!bson) continue;
    const list = (value as { $in?: unknown } | null)?.$in;
    doc[field] = Array.isArray(list)
      ? { $in: list.map((item) => asBson(field, bson, item)) }
      : asBson(field, bson, value);
  }
  return doc;
}
