/**
 * JSON columns as values. The driver would parse them while it reads the
 * socket, where a text MariaDB takes as JSON and JavaScript does not (`1.`,
 * an unescaped backslash) throws out of its data handler and ends the
 * process. So they come as text (`jsonStrings`) and are parsed here, one
 * value at a time; a text that does not parse is passed on as it is.
 *
 * @module
 */

/** What the driver's column definitions offer (`isDataTypeFormatJson`: MariaDB's JSON format tag). */
interface ColumnDef {
  name(): string;
  isDataTypeFormatJson?(): boolean;
}

/** JSON column names per column-definition list: a prepared SELECT reuses its list on every execute. */
const jsonNames = new WeakMap<object, string[]>();

function jsonColumnsOf(meta: ColumnDef[]): string[] {
  let names = jsonNames.get(meta);
  if (names === undefined) {
    names = meta.filter((column) => column.isDataTypeFormatJson?.() === true).map((column) => column.name());
    jsonNames.set(meta, names);
  }
  return names;
}

function parseRows(rows: Array<Record<string, unknown>>, names: string[]): void {
  for (const row of rows) {
    for (const name of names) {
      const text = row[name];
      if (typeof text !== "string") continue;
      try {
        row[name] = JSON.parse(text);
      } catch {
        // Not JSON to JavaScript: the client gets the text the database holds.
      }
    }
  }
}

/** Parses the JSON columns of a statement's result in place: rows, or a CALL's result sets. */
export function parseJsonColumns<T>(result: T): T {
  if (!Array.isArray(result)) return result;
  const meta = (result as { meta?: unknown }).meta;
  if (Array.isArray(meta)) {
    const names = jsonColumnsOf(meta as ColumnDef[]);
    if (names.length) parseRows(result as Array<Record<string, unknown>>, names);
    return result;
  }
  for (const set of result) if (Array.isArray(set)) parseJsonColumns(set);
  return result;
}
