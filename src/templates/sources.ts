/**
 * Value sources of composite templates: where a REL part's or a TXN step's
 * key, where or data field takes its value from.
 *
 * @module
 */

/** A literal, a field of the request, or (a field of) an earlier result: a REL part or a TXN step. */
export type ValueSource =
  | { from: "literal"; value: string | number | boolean | null }
  | { from: "key" | "where" | "data"; field: string }
  | { from: "result"; name: string; field?: string };

const NAME = "[a-z_][a-z0-9_]*";

/**
 * Parses `$<section>.F` (one of `sections`), `$<results>.N[.F]` or a literal (anything that does
 * not start with `$`); undefined for any other `$` reference.
 */
export function parseValueSource(
  value: string | number | boolean | null,
  sections: ReadonlyArray<"key" | "where" | "data">,
  results: "parts" | "steps",
): ValueSource | undefined {
  if (typeof value !== "string" || !value.startsWith("$")) return { from: "literal", value };
  const m = new RegExp(`^\\$(${sections.join("|")})\\.(${NAME})$`).exec(value);
  if (m) return { from: m[1] as "key" | "where" | "data", field: m[2]! };
  const r = new RegExp(`^\\$${results}\\.(${NAME})(?:\\.(${NAME}))?$`).exec(value);
  if (r) return r[2] ? { from: "result", name: r[1]!, field: r[2] } : { from: "result", name: r[1]! };
  return undefined;
}
