/**
 * Pure mapping of template field declarations to MariaDB column and
 * parameter types, CHECK constraints and literals, for the DDL generator.
 *
 * @module
 */
import { DECIMAL_DEFAULTS, type FieldSpec } from "../../templates/mod.ts";

/**
 * The collation of every generated text column (the table's default) and its parameters: case and
 * accents ignored ("cafe" matches "Café"), as the lab schema's utf8mb4_unicode_ci, but Unicode 14's
 * weights: utf8mb4_unicode_ci weighs every character beyond U+FFFF as one, so any emoji matched any
 * other in a key or a where. In MariaDB from 10.10.
 */
export const TEXT_COLLATION = "utf8mb4_uca1400_ai_ci";
/** The character set and collation of text parameters: as their columns', which they are compared with. */
export const TEXT_CHARSET = `CHARACTER SET utf8mb4 COLLATE ${TEXT_COLLATION}`;
/**
 * The collation of ENUM columns and their parameters: TEXT_CHARSET weighs values that differ only in
 * case or accents ("cafe", "café") as one, so MariaDB would refuse the ENUM (error 1291) or take one
 * value for another. Binary compares characters, as the template does; it pads, so a value sent with
 * trailing spaces matches the ENUM's, which MariaDB strips of them (so the generator refuses a value
 * ending in one).
 */
export const ENUM_CHARSET = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;

/**
 * The longest VARCHAR of utf8mb4 (4 bytes a character) MariaDB creates: 65,535 bytes, the whole row.
 * Beyond it strict mode refuses the column (error 1074).
 */
export const VARCHAR_MAX_CHARS = 16383;
/** Characters of utf8mb4 a MEDIUMTEXT holds (16 MiB - 1 bytes); LONGTEXT takes the rest. */
const MEDIUMTEXT_MAX_CHARS = 4194303;
/** MariaDB's limit on a row's bytes, BLOB and TEXT columns counting only their length and pointer. */
export const MAX_ROW_BYTES = 65535;

/**
 * InnoDB's limit on the bytes a row keeps in its page (16 KiB pages, the default): the row needs
 * fewer (error 1118 "Row size too large (> 8126)" otherwise, under strict mode). A column that can
 * move off the page counts only its pointer there ({@link pageBytes}).
 */
export const MAX_PAGE_ROW_BYTES = 8126;
/**
 * What every generated row keeps in its page besides its columns: the record header (5 bytes) and
 * InnoDB's transaction id and roll pointer (13). Measured on MariaDB 10.11 with 16 KiB pages.
 */
export const PAGE_ROW_OVERHEAD = 18;

/** A quoted identifier; names come from a validated template. */
export function ident(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** A single-quoted SQL string literal. */
export function literal(value: string | number): string {
  if (typeof value === "number") return String(value);
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/**
 * The literal of a COMMENT, cut to the `max` characters MariaDB takes (error 1629 or 1628 beyond) and
 * then ending with "…". MariaDB counts code points: an emoji is one character (kept as "?").
 */
export function commentLiteral(text: string, max: number): string {
  const chars = [...text];
  return literal(chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`);
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
  const [low, high] = unsigned(spec) ? [0, UINT_MAX] : [INT_MIN, INT_MAX];
  // Either bound outside INT's range means values INT cannot store: a minimum beyond it (epoch
  // milliseconds, say) makes every value out of range.
  const big = [spec.min, spec.max].some((bound) => bound !== undefined && (bound < low || bound > high));
  return `${big ? "BIGINT" : "INT"}${unsigned(spec) ? " UNSIGNED" : ""}`;
}

function decimalType(spec: FieldSpec): string {
  return `DECIMAL(${spec.precision ?? DECIMAL_DEFAULTS.precision},${spec.scale ?? DECIMAL_DEFAULTS.scale})`;
}

/** The column type of a field. */
export function columnType(spec: FieldSpec): string {
  switch (spec.type) {
    case "string":
      if (isStringEnum(spec)) {
        return `ENUM(${spec.enum!.map((v) => literal(String(v))).join(",")}) ${ENUM_CHARSET}`;
      }
      if (spec.max_length === undefined) return "TEXT";
      if (spec.max_length <= VARCHAR_MAX_CHARS) return `VARCHAR(${spec.max_length})`;
      return spec.max_length <= MEDIUMTEXT_MAX_CHARS ? "MEDIUMTEXT" : "LONGTEXT";
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
      // Microseconds, the most a template's datetime carries: fewer would cut what is stored, and a
      // key or where sent as created would match nothing.
      return "DATETIME(6)";
    case "json":
      return "JSON";
  }
}

/**
 * The type of a procedure parameter carrying a field (text declares its column's collation, so that
 * the procedure's checks compare as the column does).
 */
export function paramType(spec: FieldSpec): string {
  if (isStringEnum(spec)) {
    const longest = Math.max(...spec.enum!.map((v) => [...String(v)].length));
    return `VARCHAR(${longest}) ${ENUM_CHARSET}`;
  }
  if (spec.type === "string") return `${columnType(spec)} ${TEXT_CHARSET}`;
  return columnType(spec);
}

/** Whether the field's own column type is a VARCHAR (not an ENUM, nor a TEXT type). */
export function isVarchar(spec: FieldSpec): boolean {
  return spec.type === "string" && !spec.enum && spec.max_length !== undefined &&
    spec.max_length <= VARCHAR_MAX_CHARS;
}

/** Whether a column of this field can be indexed without a prefix length. */
export function indexable(spec: FieldSpec): boolean {
  if (spec.type === "json") return false;
  return spec.type !== "string" || spec.enum !== undefined || isVarchar(spec);
}

/** Bytes of MariaDB's DECIMAL: 4 for each 9 digits on either side of the point, fewer for the rest. */
function decimalBytes(digits: number): number {
  return 4 * Math.floor(digits / 9) + [0, 1, 1, 2, 2, 3, 3, 4, 4][digits % 9]!;
}

/**
 * The bytes the field's column counts toward {@link MAX_ROW_BYTES}, not counting its NULL bit: a
 * VARCHAR its characters at 4 bytes plus its length, a TEXT type or JSON only its length and pointer.
 * `asText`: the column is a TEXT instead of its VARCHAR.
 */
export function rowBytes(spec: FieldSpec, asText = false): number {
  switch (spec.type) {
    case "string": {
      if (spec.enum) return spec.enum.length > 255 ? 2 : 1;
      if (asText || !isVarchar(spec)) return { MEDIUMTEXT: 11, LONGTEXT: 12 }[columnType(spec)] ?? 10;
      const bytes = 4 * spec.max_length!;
      return bytes + (bytes > 255 ? 2 : 1);
    }
    case "int":
      return intType(spec).startsWith("BIGINT") ? 8 : 4;
    case "number":
      return 8;
    case "decimal": {
      const scale = spec.scale ?? DECIMAL_DEFAULTS.scale;
      return decimalBytes((spec.precision ?? DECIMAL_DEFAULTS.precision) - scale) + decimalBytes(scale);
    }
    case "boolean":
      return 1;
    case "date":
      return 3;
    case "datetime":
      return 8;
    case "json":
      return 12;
  }
}

/**
 * The most bytes InnoDB keeps in the page of a value it may move off it: it moves none of 40 bytes or
 * fewer, which stays with its length byte (41); a longer one leaves its 20-byte pointer and 2 length
 * bytes (22). A row of such values of 40 bytes each is the largest. Measured on MariaDB 10.11.
 */
const OFF_PAGE_COLUMN_BYTES = Math.max(40 + 1, 20 + 2);

/**
 * The most bytes the field's column keeps in the page, toward {@link MAX_PAGE_ROW_BYTES}, not counting
 * its NULL bit, when it is not in the primary key (whose columns stay whole: {@link rowBytes}): a
 * fixed-size column its size; a VARCHAR of at most 255 bytes its bytes plus its length, as it always
 * stays in the page; a longer one, a TEXT type or JSON, which InnoDB may move off the page,
 * {@link OFF_PAGE_COLUMN_BYTES}.
 */
export function pageBytes(spec: FieldSpec, asText = false): number {
  const offPage = spec.type === "json" ||
    (spec.type === "string" && !spec.enum && (asText || !isVarchar(spec) || 4 * spec.max_length! > 255));
  return offPage ? OFF_PAGE_COLUMN_BYTES : rowBytes(spec);
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
