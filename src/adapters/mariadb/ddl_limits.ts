/**
 * The limits InnoDB puts on a generated table, checked before the DDL is
 * written so that a template MariaDB would refuse fails with the field to
 * change: a key's columns and bytes, and the row's size. Pure.
 *
 * @module
 */
import { TemplateError } from "../../errors.ts";
import type { FieldSpec, RecTemplate } from "../../templates/mod.ts";
import {
  indexable,
  isVarchar,
  MAX_PAGE_ROW_BYTES,
  MAX_ROW_BYTES,
  PAGE_ROW_OVERHEAD,
  pageBytes,
  rowBytes,
} from "./ddl_columns.ts";

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

/** A limit on a row's bytes, and what a column counts toward it (as its VARCHAR, or as TEXT). */
interface RowLimit {
  /** Named in the DDL's comments and errors. */
  name: string;
  /** How columns count toward it, told in the error when the row is over it. */
  counts: string;
  bytes: number;
  fits(bytes: number): boolean;
  size(spec: FieldSpec, asText?: boolean): number;
}

/**
 * The VARCHAR columns made TEXT so that the row fits MariaDB's 65,535 bytes and InnoDB's 8,126 in
 * a page (error 1118 otherwise), with the limit each was made TEXT for: the largest first, and
 * columns a `where` index would lose only when the others are not enough. Key columns stay
 * VARCHARs: a TEXT column cannot be a key.
 * @throws {TemplateError} naming the fields when even that does not make the row fit.
 */
export function rowFit(
  t: RecTemplate,
  columns: readonly string[],
  key: readonly string[],
  uniqueKeys: readonly (readonly string[])[],
): Map<string, string> {
  const keyed = new Set([...key, ...uniqueKeys.flat()]);
  const nullBytes = Math.ceil(columns.filter((name) => !key.includes(name) && !notNull(t, name)).length / 8);
  const sum = (size: (spec: FieldSpec, name: string) => number) =>
    columns.reduce((n, name) => n + size(t.fields[name]!, name), 0);
  const limits: RowLimit[] = [
    {
      name: `MariaDB's ${MAX_ROW_BYTES}-byte row`,
      counts: "it counts a VARCHAR 4 bytes a character, a TEXT or json 10 to 12",
      bytes: nullBytes + sum((spec) => rowBytes(spec)),
      fits: (bytes) => bytes <= MAX_ROW_BYTES,
      size: rowBytes,
    },
    {
      name: `InnoDB's ${MAX_PAGE_ROW_BYTES}-byte row in a page`,
      counts: "it counts a key's VARCHAR whole, any other string or json up to 41 bytes: InnoDB keeps a " +
        "value of up to 40 bytes in the page",
      // Without a primary key InnoDB adds a 6-byte row id. InnoDB moves none of the primary key's
      // columns off the page.
      bytes: nullBytes + PAGE_ROW_OVERHEAD + (key.length ? 0 : 6) +
        sum((spec, name) => key.includes(name) ? rowBytes(spec) : pageBytes(spec)),
      fits: (bytes) => bytes < MAX_PAGE_ROW_BYTES,
      size: pageBytes,
    },
  ];
  const where = new Set(t.ops.read?.where ?? []);
  const candidates = columns
    .filter((name) => !keyed.has(name) && isVarchar(t.fields[name]!))
    .sort((a, b) =>
      Number(where.has(a)) - Number(where.has(b)) || t.fields[b]!.max_length! - t.fields[a]!.max_length!
    );
  const asText = new Map<string, string>();
  for (const name of candidates) {
    const spec = t.fields[name]!;
    // A column goes TEXT only for a limit the row is over and that TEXT saves bytes of.
    const over = limits.find((l) => !l.fits(l.bytes) && l.size(spec, true) < l.size(spec));
    if (!over) continue;
    for (const l of limits) l.bytes -= l.size(spec) - l.size(spec, true);
    asText.set(name, over.name);
  }
  const over = limits.find((l) => !l.fits(l.bytes));
  if (over) {
    // TEXT made the row as short as it gets but for the key columns, which stay VARCHARs.
    const varchars = columns.filter((name) => keyed.has(name) && isVarchar(t.fields[name]!));
    fail(
      t,
      "fields",
      `the row needs ${over.bytes} bytes, more than ${over.name}, even with every other string as TEXT; ` +
        (varchars.length ? `shorten the max_length of ${varchars.join(", ")} or ` : "") +
        `declare fewer fields (${over.counts})`,
    );
  }
  return asText;
}

/** Whether the field's column is NOT NULL apart from keys (a required field that is not nullable). */
export function notNull(t: RecTemplate, name: string): boolean {
  const f = t.fields[name]!;
  return f.required && !f.nullable;
}
