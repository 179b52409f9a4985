/**
 * Pure mapping of template field declarations to MariaDB column and
 * parameter types, CHECK constraints and literals, for the DDL generator.
 *
 * @module
 */
import { DECIMAL_DEFAULTS, type FieldSpec } from "../../templates/mod.ts";

/** The collation every generated text column and parameter uses (as the lab schema). */
export const TEXT_CHARSET = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";

const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;

/** A quoted identifier; names come from a validated template. */
export function ident(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** A single-quoted SQL string literal. */
export function literal(value: string | number): string {
  if (typeof value === "number") return String(value);
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** One line of text fit for a `--` comment. */
export function commentText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A string field whose enum becomes a MariaDB ENUM column. */
export function isStringEnum(spec: FieldSpec): boolean {
  return spec.type === "string" && spec.enum !== undefined;
}

/** Whether an int field is stored unsigned (declared minimum 0 or more). */
function unsigned(spec: FieldSpec): boolean {
  return spec.min !== undefined && spec.min >= 0;
}

function intType(spec: FieldSpec): string {
  const big = unsigned(spec)
    ? spec.max !== undefined && spec.max > UINT_MAX
    : (spec.min !== undefined && spec.min < -INT_MAX - 1) || (spec.max !== undefined && spec.max > INT_MAX);
  return `${big ? "BIGINT" : "INT"}${unsigned(spec) ? " UNSIGNED" : ""}`;
}

function decimalType(spec: FieldSpec): string {
  return `DECIMAL(${spec.precision ?? DECIMAL_DEFAULTS.precision},${spec.scale ?? DECIMAL_DEFAULTS.scale})`;
}

/** The column type of a field. */
export function columnType(spec: FieldSpec): string {
  switch (spec.type) {
    case "string":
      if (isStringEnum(spec)) return `ENUM(${spec.enum!.map((v) => literal(String(v))).join(",")})`;
      return spec.max_length === undefined ? "TEXT" : `VARCHAR(${spec.max_length})`;
    case "int":
      return intType(spec);
    case "number":
      return "DOUBLE";
    case "decimal":
      return decimalType(spec);
    case "boolean":
      return "BOOLEAN";
    case "date":
      return "DATE";
    case "datetime":
      return "DATETIME(3)";
    case "json":
      return "JSON";
  }
}

/** The type of a procedure parameter carrying a field (text declares the table's collation). */
export function paramType(spec: FieldSpec): string {
  if (isStringEnum(spec)) {
    const longest = Math.max(...spec.enum!.map((v) => [...String(v)].length));
    return `VARCHAR(${longest}) ${TEXT_CHARSET}`;
  }
  if (spec.type === "string") return `${columnType(spec)} ${TEXT_CHARSET}`;
  return columnType(spec);
}

/** Whether a column of this field can be indexed without a prefix length. */
export function indexable(spec: FieldSpec): boolean {
  return !(spec.type === "json" || (spec.type === "string" && spec.max_length === undefined && !spec.enum));
}

/**
 * The CHECK condition of a field's declared constraints, or undefined when
 * the column type already enforces them. `autoIncrement` columns take none
 * (MariaDB refuses a CHECK on them).
 */
export function checkCondition(name: string, spec: FieldSpec, autoIncrement: boolean): string | undefined {
  if (autoIncrement) return undefined;
  const col = ident(name);
  const terms: string[] = [];
  if (spec.enum !== undefined && !isStringEnum(spec)) {
    terms.push(`${col} IN (${spec.enum.map(literal).join(", ")})`);
  }
  if (spec.type === "int" || spec.type === "number" || spec.type === "decimal") {
    // UNSIGNED already holds a minimum of 0.
    const impliedMin = spec.type === "int" && unsigned(spec) ? 0 : undefined;
    if (spec.min !== undefined && spec.min !== impliedMin) terms.push(`${col} >= ${spec.min}`);
    if (spec.max !== undefined) terms.push(`${col} <= ${spec.max}`);
  }
  if (spec.type === "string" && spec.min_length !== undefined && spec.min_length > 0 && !spec.enum) {
    terms.push(`CHAR_LENGTH(${col}) >= ${spec.min_length}`);
  }
  return terms.length ? terms.join(" AND ") : undefined;
}

/** Notes on declarations BEDS enforces but the generated DDL does not. */
export function uncheckedNotes(name: string, spec: FieldSpec): string[] {
  const notes: string[] = [];
  if (spec.pattern !== undefined) {
    notes.push(
      `${name}: pattern ${
        commentText(spec.pattern)
      } is checked by BEDS only (regular expression dialects differ)`,
    );
  }
  return notes;
}
