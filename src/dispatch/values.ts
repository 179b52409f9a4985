/**
 * Shared by REL fan-outs and TXN templates: checking a composite template's
 * own input, and the values of a part or step from the request and earlier
 * results.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import type { Request } from "../protocol/mod.ts";
import type { FieldCheck, ValueSource } from "../templates/mod.ts";

/** The request sections a composite template accepts, each with its allowed fields. */
export type InputSections = ReadonlyArray<readonly ["key" | "where" | "data", readonly string[]]>;

/** Checks that `request` sends only allowed, declared and well-typed fields, and every `required` one. */
export function checkInput(
  name: string,
  checks: ReadonlyMap<string, FieldCheck>,
  sections: InputSections,
  required: readonly string[],
  request: Request,
): void {
  const accepted = sections.map(([section]) => section);
  for (const section of ["key", "where", "data"] as const) {
    if (request[section] !== undefined && !accepted.includes(section) || request.call !== undefined) {
      throw new BedsError("BAD_REQUEST", `Template "${name}" takes only ${accepted.join(" and ")}`);
    }
  }
  // Its parts or steps have their own: a request's would be ignored without a word.
  for (const envelope of ["limit", "offset", "order"] as const) {
    if (request[envelope] !== undefined) {
      throw new BedsError("BAD_REQUEST", `Template "${name}" does not take "${envelope}"`);
    }
  }
  for (const [section, allowed] of sections) {
    for (const [field, value] of Object.entries(request[section] ?? {})) {
      const check = checks.get(field);
      if (!check || !allowed.includes(field)) {
        throw new BedsError("VALIDATION", `Field "${field}" is not accepted in ${section} of "${name}"`, {
          details: { field },
        });
      }
      check(value);
    }
  }
  for (const field of required) {
    // Missing or null, as for a REC request (protocol.md §3).
    if (sections.every(([section]) => (request[section]?.[field] ?? null) === null)) {
      throw new BedsError("VALIDATION", `Field "${field}" is required`, { details: { field } });
    }
  }
}

/** `field` of a result (its first row when it is a list), or the whole value without a field. */
export function pickField(data: unknown, field: string | undefined): unknown {
  const row = Array.isArray(data) ? data[0] : data;
  if (field === undefined) return row;
  return row !== null && typeof row === "object" && Object.hasOwn(row, field)
    ? (row as Record<string, unknown>)[field]
    : undefined;
}

/**
 * The values `sources` name, from `request` and the `results` so far (REL parts or TXN steps). A
 * field the request left out is left out (an optional filter or value), but an earlier result that
 * has no such value is `NOT_FOUND`: dropped, it would turn a filter such as "the orders of the
 * customer found" into no filter at all. For a `key` a NULL is no value either ("the parent of the
 * row found" when its parent_id is NULL is not found, not a request to fix); in `where` and `data`
 * it is a value like any.
 */
export function resolveValues(
  sources: ReadonlyMap<string, ValueSource> | undefined,
  request: Request,
  results: ReadonlyMap<string, unknown>,
  key = false,
): Record<string, unknown> | undefined {
  if (!sources) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, source] of sources) {
    let value: unknown;
    if (source.from === "result") {
      value = pickField(results.get(source.name), source.field);
      if (value === undefined || (key && value === null)) {
        const ref = source.field === undefined ? `"${source.name}"` : `"${source.name}.${source.field}"`;
        throw new BedsError(
          "NOT_FOUND",
          `Field "${field}" takes ${ref}, which has no value (no row${key ? ", or NULL" : ""})`,
          {
            details: { field },
          },
        );
      }
    } else value = source.from === "literal" ? source.value : request[source.from]?.[source.field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}
