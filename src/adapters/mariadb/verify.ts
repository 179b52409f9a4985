/**
 * Verifies templates against the live catalog (`information_schema`): every
 * view, procedure and function a template names exists, each routine takes
 * as many parameters as the template passes, none named for another of its
 * fields (the values would be swapped), and a view has every column the
 * template filters or orders on. The catalog shows objects the node cannot
 * use (a view whose definer is gone, one the account may not select from on
 * the server its reads go to), so each view is also read, for no rows, as
 * the node reads it. On request it also reports drift that still works:
 * parameters not named `p_<field>` in the template's order, and TXN steps
 * whose routine controls the transaction itself.
 *
 * @module
 */
import type { RecTemplate, RelTemplate, TxnTemplate } from "../../templates/mod.ts";
import { BedsError } from "../../errors.ts";
import type { VerifyProblem } from "../types.ts";
import { qualified, quoteIdent } from "./sql.ts";
import { txnProblems } from "./verify_txn.ts";
import { relProblems } from "./verify_rel.ts";

type Row = Record<string, unknown>;
type Query = (sql: string, values: unknown[]) => Promise<Row[]>;

interface Wanted {
  template: RecTemplate;
  path: string;
  kind: "VIEW" | "PROCEDURE" | "FUNCTION";
  schema: string;
  name: string;
  params: readonly string[];
  columns: readonly string[];
}

function wanted(t: RecTemplate, schemaOf: (db: string) => string): Wanted[] {
  const schema = schemaOf(t.database);
  const out: Wanted[] = [];
  const read = t.ops.read;
  if (read?.view) {
    const columns = [...new Set([...read.where, ...read.order, ...(read.key ?? [])])];
    out.push({
      template: t,
      path: "ops.read.view",
      kind: "VIEW",
      schema,
      name: read.view,
      params: [],
      columns,
    });
  }
  if (read?.procedure) {
    out.push({
      template: t,
      path: "ops.read.procedure",
      kind: "PROCEDURE",
      schema,
      name: read.procedure,
      params: read.params,
      columns: [],
    });
  }
  for (const op of ["create", "update", "delete"] as const) {
    const spec = t.ops[op];
    if (spec?.procedure) {
      out.push({
        template: t,
        path: `ops.${op}.procedure`,
        kind: "PROCEDURE",
        schema,
        name: spec.procedure,
        params: spec.params,
        columns: [],
      });
    }
  }
  for (const [name, call] of t.calls) {
    const kind = call.function ? "FUNCTION" : "PROCEDURE";
    out.push({
      template: t,
      path: `calls.${name}.${kind.toLowerCase()}`,
      kind,
      schema,
      name: (call.function ?? call.procedure)!,
      params: call.params,
      columns: [],
    });
  }
  return out;
}

/** Options for {@link verifyTemplates}. */
export interface VerifyTemplatesOptions {
  templates: readonly RecTemplate[];
  /** Physical schema of a logical database name. */
  schemaOf: (database: string) => string;
  /** Runs a catalog query with bound values. */
  query: Query;
  /**
   * Also warn about routine parameters not named `p_<field>` in the
   * template's order (the lab convention); counts are always checked.
   * @default false
   */
  drift?: boolean;
  /** With `drift`: TXN templates whose step routines must not control transactions. */
  transactions?: readonly TxnTemplate[];
  /** REL templates whose `$parts.P.F` to check against the views their parts read. */
  rels?: readonly RelTemplate[];
  /**
   * Reads a view for no rows as the node's reads do (on the secondary when there is one), naming
   * that server in problems; without it views are checked in the catalog only.
   */
  readProbe?: { query: Query; server: string };
}

const sameName = (a: unknown, b: string) => String(a).toLowerCase() === b.toLowerCase();

/**
 * The name the catalog shows for a field's parameter: `information_schema.PARAMETERS` keeps 64
 * characters of a name, and `p_` before a field of 63 or 64 makes a longer one that MariaDB takes.
 */
const paramName = (field: string) => `p_${field}`.slice(0, 64);

/**
 * Returns every mismatch between the templates and the catalog. Errors are
 * missing objects or columns and parameter count mismatches; with `drift`,
 * parameter names that differ from `p_<field>` come back as warnings.
 */
export async function verifyTemplates(options: VerifyTemplatesOptions): Promise<VerifyProblem[]> {
  const { query } = options;
  const checkTxn = Boolean(options.drift && options.transactions?.length);
  const items = options.templates.flatMap((t) => wanted(t, options.schemaOf));
  const schemas = [...new Set(items.map((i) => i.schema))];
  if (!schemas.length) return [];
  const marks = schemas.map(() => "?").join(", ");
  const [tables, routines, params, columns, caseRows] = await Promise.all([
    query(
      `SELECT TABLE_SCHEMA s, TABLE_NAME n, TABLE_TYPE t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${marks})`,
      schemas,
    ),
    query(
      `SELECT ROUTINE_SCHEMA s, ROUTINE_NAME n, ROUTINE_TYPE t, DEFINER df, SECURITY_TYPE st${
        checkTxn ? ", ROUTINE_DEFINITION d" : ""
      } FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${marks})`,
      schemas,
    ),
    query(
      `SELECT SPECIFIC_SCHEMA s, SPECIFIC_NAME n, ROUTINE_TYPE t, PARAMETER_NAME p FROM information_schema.PARAMETERS
       WHERE SPECIFIC_SCHEMA IN (${marks}) AND PARAMETER_MODE IS NOT NULL ORDER BY ORDINAL_POSITION`,
      schemas,
    ),
    query(
      `SELECT TABLE_SCHEMA s, TABLE_NAME n, COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (${marks})`,
      schemas,
    ),
    query("SELECT @@lower_case_table_names AS l", []),
  ]);
  const accounts = await knownAccounts(query);
  // Routine names never depend on case; table and view names do where the server keeps them as
  // written (lower_case_table_names = 0, the default on Linux): there a view named in another case
  // would pass here and be missing on every read.
  // Schema names are directories too: the server compares them as it does table names.
  const tableCase = Number((caseRows[0] as { l?: unknown } | undefined)?.l ?? 0) === 0;
  const sameTable = (a: unknown, b: string) => tableCase ? String(a) === b : sameName(a, b);
  const hasTable = (s: string, n: string) => tables.some((r) => sameTable(r.s, s) && sameTable(r.n, n));
  const hasRoutine = (s: string, n: string, t: string) =>
    routines.some((r) => sameTable(r.s, s) && sameName(r.n, n) && r.t === t);
  const problems: VerifyProblem[] = [];
  for (const w of items) {
    const object = `${w.schema}.${w.name}`;
    const problem = (message: string, severity: VerifyProblem["severity"] = "error") =>
      problems.push({
        template: w.template.name,
        file: w.template.file,
        path: w.path,
        object,
        message,
        severity,
      });
    if (w.kind === "VIEW") {
      if (!hasTable(w.schema, w.name)) {
        problem(`view "${object}" does not exist`);
        continue;
      }
      const missing = w.columns.filter((column) =>
        !columns.some((r) => sameTable(r.s, w.schema) && sameTable(r.n, w.name) && r.c === column)
      );
      for (const column of missing) problem(`view "${object}" has no column "${column}"`);
      if (!missing.length && options.readProbe) {
        const refused = await unreadable(options.readProbe.query, w);
        if (refused) problem(`view "${object}" cannot be read on ${options.readProbe.server}: ${refused}`);
      }
      continue;
    }
    const kind = w.kind.toLowerCase();
    if (!hasRoutine(w.schema, w.name, w.kind)) {
      // The catalog lists only the routines the account has a privilege on.
      problem(`${kind} "${object}" does not exist, or the node's account may not execute it`);
      continue;
    }
    const definer = goneDefiner(
      routines,
      accounts,
      (r) => sameTable(r.s, w.schema) && sameName(r.n, w.name) && r.t === w.kind,
    );
    if (definer !== undefined) {
      problem(`${kind} "${object}" runs as its definer "${definer}", which does not exist: every call fails`);
      continue;
    }
    const names = params
      .filter((r) => sameTable(r.s, w.schema) && sameName(r.n, w.name) && r.t === w.kind)
      .map((r) => String(r.p));
    if (names.length !== w.params.length) {
      problem(`${kind} "${object}" takes ${names.length} parameters, the template passes ${w.params.length}`);
      continue;
    }
    for (const [i, field] of w.params.entries()) {
      const other = w.params.find((f) => f !== field && sameName(names[i], paramName(f)));
      if (other !== undefined) {
        problem(
          `${kind} "${object}" parameter ${i + 1} is "${
            names[i]
          }", but the template passes field "${field}" ` +
            `there and "${other}" elsewhere: the values would be swapped`,
        );
      }
    }
    if (!options.drift) continue;
    for (const [i, field] of w.params.entries()) {
      if (!sameName(names[i], paramName(field))) {
        const found = names[i];
        problem(
          `${kind} "${object}" parameter ${i + 1} is "${found}", expected "${
            paramName(field)
          }" for field "${field}"`,
          "warning",
        );
      }
    }
  }
  if (checkTxn) {
    problems.push(...txnProblems({
      transactions: options.transactions!,
      recs: options.templates,
      schemaOf: options.schemaOf,
      routines,
      sameSchema: sameTable,
    }));
  }
  if (options.rels?.length) {
    problems.push(...relProblems({
      rels: options.rels,
      recs: new Map(options.templates.map((t) => [t.name, t])),
      schemaOf: options.schemaOf,
      columns,
      sameTable,
    }));
  }
  return problems;
}

/**
 * The accounts and roles of the server as a routine's DEFINER names them (`user@host`, a role
 * without `@`), or undefined when the account may not read `mysql.global_priv` (a node's usually
 * may not; `beds templates verify` run with a DBA's account can).
 */
async function knownAccounts(query: Query): Promise<Set<string> | undefined> {
  try {
    const rows = await query(
      "SELECT CASE WHEN Host = '' THEN User ELSE CONCAT(User, '@', LOWER(Host)) END AS a FROM mysql.global_priv",
      [],
    );
    return new Set(rows.map((r) => String(r.a)));
  } catch (error) {
    if (error instanceof BedsError && error.code === "DB_UNAVAILABLE") throw error;
    return undefined;
  }
}

/** The DEFINER of the routine `matches` picks when it runs as its definer and that account is gone. */
function goneDefiner(
  routines: readonly Row[],
  accounts: Set<string> | undefined,
  matches: (row: Row) => boolean,
): string | undefined {
  if (!accounts) return undefined;
  const routine = routines.find(matches);
  if (!routine || routine.st !== "DEFINER" || typeof routine.df !== "string") return undefined;
  const at = routine.df.lastIndexOf("@");
  const definer = at < 0
    ? routine.df
    : `${routine.df.slice(0, at)}@${routine.df.slice(at + 1).toLowerCase()}`;
  return accounts.has(definer) ? undefined : routine.df;
}

/**
 * Why the node cannot read view `w` (its definer gone, SELECT not granted, an invoker's view over
 * tables it may not read), or undefined when a read for no rows succeeds. A database that does not
 * answer is thrown, not reported: it says nothing of the template.
 */
async function unreadable(query: Query, w: Wanted): Promise<string | undefined> {
  const list = w.columns.length ? w.columns.map(quoteIdent).join(", ") : "1";
  try {
    await query(`SELECT ${list} FROM ${qualified(w.schema, w.name)} LIMIT 0`, []);
    return undefined;
  } catch (error) {
    if (error instanceof BedsError && error.code === "DB_UNAVAILABLE") throw error;
    // The server's own words: the reply's "Database error" would not say what to grant.
    const cause = (error as Error).cause as { sqlMessage?: string; errno?: number } | undefined;
    const text = cause?.sqlMessage ?? (error as Error).message;
    return cause?.errno === undefined ? text : `${text} (errno ${cause.errno})`;
  }
}
