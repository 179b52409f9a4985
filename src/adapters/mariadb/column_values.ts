/**
 * Column values as a reply carries them, fixed up after the driver read them:
 *
 * - JSON columns. The driver would parse them while it reads the socket, where
 *   a text MariaDB takes as JSON and JavaScript does not (`1.`, an unescaped
 *   backslash) throws out of its data handler and ends the process. So they
 *   come as text (`jsonStrings`) and are parsed here, one value at a time; a
 *   text that does not parse is passed on as it is.
 * - BIGINT columns. The driver reads them as BigInt (`bigIntAsNumber` off: as
 *   a number, one past 2^53 would silently become another, and an id would
 *   name a different row). A value within ±(2^53−1) becomes a number, as
 *   before; one beyond it the string of its exact digits, as DECIMAL does.
 *
 * The columns to fix are found once per column-definition list: a prepared
 * statement reuses its list on every execute, so a result with neither kind
 * costs one map lookup.
 *
 * @module
 */

/** What the driver's column definitions offer (`isDataTypeFormatJson`: MariaDB's JSON format tag). */
interface ColumnDef {
  name(): string;
  columnType?: number;
  isDataTypeFormatJson?(): boolean;
}

/** The protocol's type code of BIGINT (MYSQL_TYPE_LONGLONG). */
const LONGLONG = 8;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Column names to fix in a result's rows. */
interface Fixes {
  json: string[];
  bigint: string[];
}

const NONE: Fixes = { json: [], bigint: [] };

const fixesByMeta = new WeakMap<object, Fixes>();

function fixesOf(meta: ColumnDef[]): Fixes {
  let fixes = fixesByMeta.get(meta);
  if (fixes === undefined) {
    const json = meta.filter((column) => column.isDataTypeFormatJson?.() === true).map((column) =>
      column.name()
    );
    const bigint = meta.filter((column) => column.columnType === LONGLONG).map((column) => column.name());
    fixes = json.length || bigint.length ? { json, bigint } : NONE;
    fixesByMeta.set(meta, fixes);
  }
  return fixes;
}

/** A BIGINT as the reply carries it: a number within ±(2^53−1), else its exact digits. */
export function exactInteger(value: bigint): number | string {
  return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
}

function fixRows(rows: Array<Record<string, unknown>>, { json, bigint }: Fixes): void {
  for (const row of rows) {
    for (const name of json) {
      const text = row[name];
      if (typeof text !== "string") continue;
      try {
        row[name] = JSON.parse(text);
      } catch {
        // Not JSON to JavaScript: the client gets the text the database holds.
      }
    }
    for (const name of bigint) {
      const value = row[name];
      if (typeof value === "bigint") row[name] = exactInteger(value);
    }
  }
}

/** Fixes the JSON and BIGINT columns of a statement's result in place: rows, or a CALL's result sets. */
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
