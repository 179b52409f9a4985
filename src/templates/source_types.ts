/**
 * Field types along a REL part's or TXN step's values: a request field of the composite (`$key.F`,
 * `$where.F`, `$data.F`) is passed on to the REC field it feeds as the client sent it, and checked
 * again there. A type the REC field refuses would fail every request with `VALIDATION`, blaming the
 * client for the template, so it is refused when the template is linked.
 *
 * Only the types are compared, as fields.ts takes values: constraints (min, max, lengths,
 * pattern, enum, digits) narrow a type and are the client's to meet.
 *
 * Results (`$parts.P.F`, `$steps.S.F`) are not compared: they carry values as the store read them
 * (a date at midnight UTC, a TINYINT boolean as 1 or 0, a JSON column parsed), a view's column need
 * not be the field its template declares, and a procedure's or function's result declares nothing.
 *
 * @module
 */
import { invalid } from "./invalid.ts";
import type { RecTemplate } from "./loader.ts";
import type { SourceSections } from "./required.ts";
import { FIELD_TYPES, type FieldSpec } from "./schema.ts";

type FieldType = FieldSpec["type"];

/**
 * The composite field types whose values each REC field type takes too: an int is a number and a
 * decimal, a date or date-time is text, and anything is JSON. An int past ±(2^53−1) sent as the
 * string of its digits is no number, and a number past a DECIMAL's digits no decimal: there, as for
 * a max, the value and not its type is refused.
 */
const TAKES: Readonly<Record<FieldType, readonly FieldType[]>> = {
  string: ["string", "date", "datetime"],
  int: ["int"],
  number: ["number", "int"],
  decimal: ["decimal", "int", "number"],
  boolean: ["boolean"],
  date: ["date"],
  datetime: ["datetime"],
  json: FIELD_TYPES,
};

const SECTIONS = ["key", "where", "data"] as const;

/**
 * Refuses a value taken from a request field of the composite (declared in `fields`) whose type
 * `target`'s field does not take.
 */
export function checkSourceTypes(
  file: string,
  path: string,
  sections: SourceSections,
  fields: Readonly<Record<string, FieldSpec>>,
  target: RecTemplate,
): void {
  for (const section of SECTIONS) {
    for (const [field, source] of sections[section] ?? []) {
      if (source.from === "literal" || source.from === "result") continue;
      const from = fields[source.field]?.type;
      const to = target.fields[field]?.type;
      if (!from || !to) continue; // an undeclared field is reported by the caller
      if (TAKES[to].includes(from)) continue;
      invalid(
        file,
        `${path}.${section}.${field}`,
        `"$${source.from}.${source.field}" is of type ${from}, which "${target.name}"'s field "${field}" (type ${to}) does not take`,
      );
    }
  }
}
