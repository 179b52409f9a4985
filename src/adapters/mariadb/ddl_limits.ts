/**
 * The limits InnoDB puts on a generated table, checked before the DDL is
 * written so that a template MariaDB would refuse fails with the field to
 * change: a key's columns and bytes, and the row's size. Pure.
 *
 * @module
 */
import { TemplateError } from "../../errors.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import { indexable, isVarchar, MAX_ROW_BYTES, rowBytes } from "./ddl_columns.ts";

/** InnoDB's limit on one key's bytes. */
const MAX_KEY_BYTES = 3072;

/** At most the bytes a key column takes (utf8mb4: 4 per character; an ENUM 2; DECIMAL 4 per 9 digits). */
function keyColumnBytes(spec: RecTemplate["fields"][string]): number {
  if (spec.type === "string") return spec.enum ? 2 : 4 * (spec.max_length ?? 0);
  if (spec.type === "decimal") return 4 * Math.ceil((spec.precision ?? 18) / 9) + 4;
  return 8;
}

/** Throws the generator's error for template `t`, naming the path to change. */
export function fail(t: RecTemplate, path: string, text: string): never {
  throw new TemplateError(`Cannot generate DDL for template "${t.name}" (${t.file}): ${path}: ${text}`);
}

/**
 * A PRIMARY or UNIQUE KEY needs bounded columns (TEXT and JSON cannot be keys), and InnoDB ends a
 * key at 3072 bytes in all, 768 characters of utf8mb4 (4 bytes each; other types take at most 16).
 * A longer UNIQUE KEY MariaDB would turn into a hash of the columns, which no lookup by key uses.
 */
export function checkKeyColumns(t: RecTemplate, fields: readonly string[], whose: string): void {
  let keyBytes = 0;
  for (const field of fields) {
    const spec = t.fields[field]!;
    if (!indexable(spec)) {
      fail(t, `fields.${field}`, `key field "${field}" needs a max_length of at most 768 to be a key column`);
    }
    keyBytes += keyColumnBytes(spec);
    if (keyBytes > MAX_KEY_BYTES) {
      fail(
        t,
        `fields.${field}.max_length`,
        `${whose} columns hold at most ${MAX_KEY_BYTES / 4} characters together`,
      );
    }
  }
}

/**
 * The VARCHAR columns made TEXT so that the row fits MariaDB's 65,535 bytes (error 1118 otherwise):
 * the largest first, and columns a `where` index would lose only when the others are not enough.
 * Key columns stay VARCHARs: a TEXT column cannot be a key.
 * @throws {TemplateError} naming the fields when even that does not make the row fit.
 */
export function rowFit(
  t: RecTemplate,
  columns: readonly string[],
  key: readonly string[],
  uniqueKeys: readonly (readonly string[])[],
): Set<string> {
  const keyed = new Set([...key, ...uniqueKeys.flat()]);
  const nullable = columns.filter((name) => !key.includes(name) && !notNull(t, name)).length;
  let bytes = Math.ceil(nullable / 8) + columns.reduce((n, name) => n + rowBytes(t.fields[name]!), 0);
  const where = new Set(t.ops.read?.where ?? []);
  const candidates = columns
    .filter((name) => !keyed.has(name) && isVarchar(t.fields[name]!))
    .sort((a, b) =>
      Number(where.has(a)) - Number(where.has(b)) || t.fields[b]!.max_length! - t.fields[a]!.max_length!
    );
  const asText = new Set<string>();
  for (const name of candidates) {
    if (bytes <= MAX_ROW_BYTES) break;
    bytes -= rowBytes(t.fields[name]!) - rowBytes(t.fields[name]!, true);
    asText.add(name);
  }
  if (bytes > MAX_ROW_BYTES) {
    const varchars = columns.filter((name) => isVarchar(t.fields[name]!) && !asText.has(name));
    fail(
      t,
      "fields",
      `the row needs ${bytes} bytes, more than MariaDB's ${MAX_ROW_BYTES}, even with every other string ` +
        `as TEXT; shorten the max_length of ${varchars.join(", ")}`,
    );
  }
  return asText;
}

/** Whether the field's column is NOT NULL apart from keys (a required field that is not nullable). */
export function notNull(t: RecTemplate, name: string): boolean {
  const f = t.fields[name]!;
  return f.required && !f.nullable;
}
