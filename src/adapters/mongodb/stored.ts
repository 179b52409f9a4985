/**
 * Checked values in the form MongoDB keeps them. A `datetime` is kept to the
 * millisecond, as the DATETIME(3) columns of the MariaDB side keep it: the
 * check passes microseconds on, and a text stored with them would match
 * no value a reply gives back (a reply's `Date` holds milliseconds), so a
 * client could not find again what it read. Pure.
 *
 * @module
 */
import type { RecTemplate } from "../../templates/mod.ts";
import type { Values } from "../types.ts";

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
