/**
 * Column values as a reply carries them, fixed up after the driver read them:
 *
 * - JSON columns. The driver would parse them while it reads the socket, where
 *   a text MariaDB takes as JSON and JavaScript does not (`1.`, an unescaped
 *   backslash) throws out of its data handler and ends the process. So they
 *   come as text (`jsonStrings`) and are parsed here, one value at a time; a
 *   text that does not parse is passed on as it is. A number a double would
 *   change (9007199254740993) is kept as its literal (protocol/exact_numbers.ts).
 * - BIGINT columns. The driver reads them as BigInt (`bigIntAsNumber` off: as
 *   a number, one past 2^53 would silently become another, and an id would
 *   name a different row). A value within ±(2^53−1) becomes a number, as
 *   before; one beyond it the string of its exact digits, as DECIMAL does.
 * - DATE, DATETIME and TIMESTAMP columns. The driver reads them as text
 *   (`dateStrings`), made ISO 8601 in UTC here (`2024-01-08T00:00:00.000Z`,
 *   `2024-01-08T09:14:22.125Z`). As `Date`s they would be built in the
 *   process's local zone (shifted by its offset anywhere but UTC), years
 *   0–99 would become 1900–1999, and microseconds would be lost.
 * - FLOAT columns. The binary protocol sends the float32 itself, which as a
 *   double is 1.100000023841858 where MariaDB shows 1.1: each becomes the
 *   shortest decimal that reads back as the same float32. DOUBLEs are left as
 *   they are: their shortest form is the one JavaScript writes.
 *
 * The columns to fix are found once per column-definition list: a prepared
 * statement reuses its list on every execute, so a result with none of these
 * costs one map lookup.
 *
 * @module
 */
import { parseExact } from "../../protocol/exact_numbers.ts";
import { exactInteger } from "../../protocol/number_literals.ts";

/** What the driver's column definitions offer (`isDataTypeFormatJson`: MariaDB's JSON format tag). */
interface ColumnDef {
  name(): string;
  columnType?: number;
  isDataTypeFormatJson?(): boolean;
}

/** The protocol's type codes of BIGINT (MYSQL_TYPE_LONGLONG) and FLOAT (MYSQL_TYPE_FLOAT). */
const LONGLONG = 8;
const FLOAT = 4;
/** The protocol's type codes of DATE (and NEWDATE), and of DATETIME and TIMESTAMP (and their v2). */
const DATE_TYPES = new Set([10, 14]);
const DATETIME_TYPES = new Set([7, 12, 17, 18]);

/** Column names to fix in a result's rows. */
interface Fixes {
  json: string[];
  bigint: string[];
  dates: string[];
  datetimes: string[];
  floats: string[];
}

const NONE: Fixes = { json: [], bigint: [], dates: [], datetimes: [], floats: [] };

const fixesByMeta = new WeakMap<object, Fixes>();

function fixesOf(meta: ColumnDef[]): Fixes {
  let fixes = fixesByMeta.get(meta);
  if (fixes === undefined) {
    const json = meta.filter((column) => column.isDataTypeFormatJson?.() === true).map((column) =>
      column.name()
    );
    const named = (types: Set<number>) =>
      meta.filter((column) => types.has(column.columnType ?? -1)).map((column) => column.name());
    const bigint = named(new Set([LONGLONG]));
    const dates = named(DATE_TYPES);
    const datetimes = named(DATETIME_TYPES);
    const floats = named(new Set([FLOAT]));
    fixes = json.length || bigint.length || dates.length || datetimes.length || floats.length
      ? { json, bigint, dates, datetimes, floats }
      : NONE;
    fixesByMeta.set(meta, fixes);
  }
  return fixes;
}

/**
 * A FLOAT's value as the shortest decimal that reads back as the same float32 (1.1, not
 * 1.100000023841858). A value that is no float32 (a FLOAT the text protocol sent as its decimal) is
 * already a decimal the server wrote, and is left as it is.
 */
export function shortestFloat32(value: number): number {
  if (Math.fround(value) !== value || !Number.isFinite(value)) return value;
  // An integer a float32 holds exactly is its own shortest form (most FLOATs are), without toPrecision.
  if (Number.isInteger(value) && Math.abs(value) <= 2 ** 24) return value;
  for (let precision = 1; precision <= 9; precision++) {
    const short = Number(value.toPrecision(precision));
    if (Math.fround(short) === value) return short;
  }
  return value; // not reached: 9 significant digits tell every float32 apart
}

/** A DATE's text (`YYYY-MM-DD`) as midnight UTC; null for MariaDB's zero date. */
export function isoDate(text: string): string | null {
  return text.startsWith("0000-00-00") ? null : `${text.slice(0, 10)}T00:00:00.000Z`;
}

/**
 * A DATETIME's or TIMESTAMP's text (`YYYY-MM-DD hh:mm:ss[.ffffff]`, UTC: the session's zone) in ISO
 * form: milliseconds always, microseconds when not zero. Null for MariaDB's zero date.
 */
export function isoDateTime(text: string): string | null {
  if (text.startsWith("0000-00-00")) return null;
  const fraction = text.length > 20 ? text.slice(20) : "";
  const micro = fraction.slice(3).replace(/0+$/, "");
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction.slice(0, 3).padEnd(3, "0")}${micro}Z`;
}

function fixRows(
  rows: Array<Record<string, unknown>>,
  { json, bigint, dates, datetimes, floats }: Fixes,
): void {
  for (const row of rows) {
    for (const name of json) {
      const text = row[name];
      if (typeof text !== "string") continue;
      try {
        row[name] = parseExact(text);
      } catch {
        // Not JSON to JavaScript: the client gets the text the database holds.
      }
    }
    for (const name of bigint) {
      const value = row[name];
      if (typeof value === "bigint") row[name] = exactInteger(value);
    }
    for (const name of dates) {
      const value = row[name];
      if (typeof value === "string") row[name] = isoDate(value);
    }
    for (const name of datetimes) {
      const value = row[name];
      if (typeof value === "string") row[name] = isoDateTime(value);
    }
    for (const name of floats) {
      const value = row[name];
      if (typeof value === "number") row[name] = shortestFloat32(value);
    }
  }
}

/** Fixes the JSON, BIGINT, date and FLOAT columns of a statement's result in place: rows, or a CALL's result sets. */
export function columnValues<T>(result: T): T {
  if (!Array.isArray(result)) return result;
  const meta = (result as { meta?: unknown }).meta;
  if (Array.isArray(meta)) {
    const fixes = fixesOf(meta as ColumnDef[]);
    if (fixes !== NONE) fixRows(result as Array<Record<string, unknown>>, fixes);
    return result;
  }
  for (const set of result) if (Array.isArray(set)) columnValues(set);
  return result;
}
