/**
 * Pure builders of MongoDB filters, sorts and documents. Dispatch has
 * already checked every name and value against the template; these checks
 * run again here because a MongoDB query is itself a document: a key that
 * starts with `$` or contains `.`, or an object where a scalar belongs, would
 * turn data into an operator (`{$gt: ""}`, `$where`, `a.b`). Anything like
 * that is answered VALIDATION and never reaches the driver.
 *
 * @module
 */
import { BedsError } from "../../errors.ts";
import { isRawNumber, parseExact, setOwn } from "../../protocol/exact_numbers.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { OrderBy, Values } from "../types.ts";
import { exactJsonNumber } from "./stored.ts";

/** A MongoDB document or filter built from checked values. */
export type Doc = Record<string, unknown>;

/** A sort specification in field order. */
export type Sort = Array<[string, 1 | -1]>;

function invalid(message: string, field: string): never {
  throw new BedsError("VALIDATION", message, { details: { field } });
}

/** Throws VALIDATION unless `name` is usable as a plain field name. */
export function assertFieldName(name: string): void {
  if (name === "" || name.startsWith("$") || name.includes(".") || name.includes("\0")) {
    invalid(`Field name "${name}" is not allowed: it would be read as an operator or a path`, name);
  }
}

/** Throws VALIDATION unless `value` is a string, finite number, boolean or null. */
export function assertScalar(field: string, value: unknown): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number" && Number.isFinite(value)) return;
  invalid(`Field "${field}" takes a single value, not ${describe(value)}`, field);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** How deep a document may nest: MongoDB's own limit, and far below a call stack's. */
const MAX_DEPTH = 100;

/**
 * A JSON value as MongoDB stores it: a number a double would change (raw JSON of its literal) a
 * 64-bit integer, or VALIDATION (see {@link exactJsonNumber}); changed in place. Throws VALIDATION
 * too if any key at any depth starts with `$` or contains `.`, or if it nests deeper than MongoDB
 * takes. Walked with a stack of its own: a client's value may nest deeper than the call stack would
 * take.
 */
function plainJson(field: string, value: unknown): unknown {
  if (isRawNumber(value)) return exactJsonNumber(field, value);
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth > MAX_DEPTH) invalid(`Field "${field}" nests deeper than ${MAX_DEPTH} levels`, field);
    for (const [key, inner] of Object.entries(node)) {
      if (
        !Array.isArray(node) && (key === "" || key.startsWith("$") || key.includes(".") || key.includes("\0"))
      ) {
        invalid(`Field "${field}" holds the key "${key}", which is not allowed in a document`, field);
      }
      if (isRawNumber(inner)) setOwn(node, key, exactJsonNumber(field, inner));
      else pending.push([inner, depth + 1]);
    }
  }
  return value;
}

function allowedIn(field: string, allowed: readonly string[], where: string): void {
  assertFieldName(field);
  if (!allowed.includes(field)) invalid(`Field "${field}" is not allowed in ${where}`, field);
}

/**
 * The document identity of a MongoDB template: `ops.create.key`, else the
 * first `key` declared by read, update or delete.
 */
export function identityOf(template: RecTemplate): readonly string[] {
  const { ops } = template;
  return ops.create?.key ?? ops.read?.key ?? ops.update?.key ?? ops.delete?.key ?? [];
}

/** Options for {@link readFilter}. */
export interface ReadFilterOptions {
  /** Equality filters; a list of more than one value becomes `$in`. */
  where: ReadonlyMap<string, readonly unknown[]>;
  /** Fields allowed in `where` (the template's `ops.read.where`). */
  whereFields: readonly string[];
  /** Key values of a read by key. */
  key?: Values;
  /** Fields of the key (the template's `ops.read.key`). */
  keyFields?: readonly string[];
}

/** Builds the filter of a read from `where` and, for a read by key, the key. */
export function readFilter(options: ReadFilterOptions): Doc {
  const filter: Doc = {};
  for (const [field, list] of options.where) {
    allowedIn(field, options.whereFields, "where");
    if (list.length === 0) invalid(`Field "${field}" takes at least one value`, field);
    for (const value of list) assertScalar(field, value);
    filter[field] = list.length === 1 ? list[0] : { $in: [...list] };
  }
  if (options.key) Object.assign(filter, keyFilter(options.key, options.keyFields ?? []));
  return filter;
}

/** Builds an equality filter on every key field; each must be present. */
export function keyFilter(values: Values, keyFields: readonly string[]): Doc {
  if (!keyFields.length) throw new BedsError("VALIDATION", "The template declares no key");
  const filter: Doc = {};
  for (const field of keyFields) {
    assertFieldName(field);
    if (!values.has(field)) invalid(`Key field "${field}" is required`, field);
    const value = values.get(field);
    assertScalar(field, value);
    filter[field] = value;
  }
  for (const field of values.keys()) {
    if (!keyFields.includes(field)) allowedIn(field, keyFields, "the key");
  }
  return filter;
}

/** Builds a sort from order terms allowed by the template's `ops.read.order`. */
export function sortOf(order: readonly OrderBy[], orderFields: readonly string[]): Sort {
  return order.map(({ field, desc }) => {
    allowedIn(field, orderFields, "order");
    return [field, desc ? -1 : 1];
  });
}

/** Options for {@link documentOf}. */
export interface DocumentOptions {
  template: RecTemplate;
  values: Values;
  /** Fields that may be written (the op's `params`, plus the identity on create). */
  fields: readonly string[];
  /** Fields left out of the document (the key of an update). */
  skip?: readonly string[];
}

/**
 * Builds the document to insert or `$set`. A `json` field arrives as JSON
 * text and is stored as the value it encodes; every other value must be a
 * scalar.
 */
export function documentOf(options: DocumentOptions): Doc {
  const doc: Doc = {};
  for (const [field, value] of options.values) {
    if (options.skip?.includes(field)) continue;
    allowedIn(field, options.fields, "this write");
    if (options.template.fields[field]?.type === "json" && typeof value === "string") {
      let parsed: unknown;
      try {
        // Exact: the check wrote a number a double would change as it came (9007199254740993).
        parsed = parseExact(value);
      } catch {
        invalid(`Field "${field}" is not valid JSON`, field);
      }
      doc[field] = plainJson(field, parsed);
      continue;
    }
    assertScalar(field, value);
    doc[field] = value;
  }
  return doc;
}
