/**
 * Flags TXN steps whose procedure ends the transaction itself (START
 * TRANSACTION, COMMIT, ROLLBACK, or a statement that commits implicitly, such
 * as TRUNCATE or DDL), directly or in a procedure it calls: inside a TXN
 * template that would commit or roll back the earlier steps early. Pure:
 * reads catalog rows.
 *
 * @module
 */
import type { RecTemplate, TxnTemplate } from "../../templates/mod.ts";
import type { VerifyProblem } from "../types.ts";

type Row = Record<string, unknown>;

/** Statements that end (or start) a transaction; ROLLBACK TO a savepoint does not. */
const TRANSACTION_CONTROL = /\b(START\s+TRANSACTION|BEGIN\s+WORK|COMMIT|ROLLBACK(?!\s+(?:WORK\s+)?TO\b))\b/gi;
/** Strings, quoted identifiers and comments, which cannot hold such a statement. */
const NOT_CODE = /'(?:\\[\s\S]|[^'\\])*'|"(?:\\[\s\S]|[^"\\])*"|`[^`]*`|(?:#|--\s)[^\n]*|\/\*[\s\S]*?\*\//g;

/**
 * Statements that commit implicitly (MariaDB's list, the ones a procedure may run): DDL on anything
 * but a temporary table, TRUNCATE, LOCK and UNLOCK TABLES, turning autocommit on, privileges.
 */
const IMPLICIT_COMMIT = new RegExp(
  [
    // TRUNCATE(x, d), the function, is no statement.
    String.raw`(TRUNCATE)\b(?!\s*\()`,
    String
      .raw`((?:CREATE|ALTER|DROP|RENAME)(?:\s+OR\s+REPLACE)?\s+(?:TABLE|INDEX|VIEW|DATABASE|SCHEMA|PROCEDURE|FUNCTION|TRIGGER|EVENT|USER|ROLE|SEQUENCE|SERVER))\b`,
    String.raw`((?:UN)?LOCK\s+TABLES?)\b`,
    String.raw`(SET\s+(?:@@(?:SESSION\.)?|SESSION\s+)?AUTOCOMMIT\s*=\s*(?:1|ON|TRUE))\b`,
    String.raw`(GRANT|REVOKE|FLUSH)\b`,
    String.raw`((?:ANALYZE|OPTIMIZE|REPAIR)\s+TABLE)\b`,
  ].join("|"),
  "gi",
);
/** A procedure called by name, `schema`.`name` or name, quoted or not. */
const CALL = /\bCALL\s+((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)/gi;

const label = (match: RegExpMatchArray) =>
  match.slice(1).find((group) => group !== undefined)!.replace(/\s+/g, " ").toUpperCase();

/**
 * The transaction statements a routine body runs, explicit and implicit, in order of appearance
 * ("" when none).
 */
export function transactionControl(definition: string): string {
  const code = definition.replace(NOT_CODE, " ");
  const found = [...code.matchAll(TRANSACTION_CONTROL), ...code.matchAll(IMPLICIT_COMMIT)]
    .sort((a, b) => a.index! - b.index!)
    .map(label);
  return [...new Set(found)].join(", ");
}

/** The procedures a routine body calls, as `[schema, name]` (schema undefined when unqualified). */
export function calledProcedures(definition: string): Array<[string | undefined, string]> {
  const code = definition.replace(
    /'(?:\\[\s\S]|[^'\\])*'|"(?:\\[\s\S]|[^"\\])*"|(?:#|--\s)[^\n]*|\/\*[\s\S]*?\*\//g,
    " ",
  );
  return [...code.matchAll(CALL)].map((m) => {
    const parts = m[1]!.split(/\s*\.\s*/).map((part) => part.replace(/^`|`$/g, ""));
    return parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  });
}

/** Options for {@link txnProblems}. */
export interface TxnCheckOptions {
  transactions: readonly TxnTemplate[];
  recs: readonly RecTemplate[];
  schemaOf: (database: string) => string;
  /** ROUTINES rows: `s` schema, `n` name, `t` type, `d` definition. */
  routines: readonly Row[];
  /**
   * Whether a catalog schema name is `schema`, as the server compares them (lower_case_table_names).
   * @default exact comparison
   */
  sameSchema?: (catalog: unknown, schema: string) => boolean;
}

/** Who may read a routine's definition in the catalog (else ROUTINE_DEFINITION is NULL). */
const DEFINITION_PRIVILEGE =
  "its definer, or an account with SELECT on mysql.proc (SHOW CREATE ROUTINE from MariaDB 11.3)";

/** How deep calls are followed: a chain longer than this is not checked past it. */
const MAX_CALL_DEPTH = 8;

/** A procedure down the calls that ends the transaction (`unchecked`: one that cannot be read). */
interface Callee {
  /** `calls "s.p", which calls "s.q", which runs COMMIT`. */
  chain: string;
  unchecked: boolean;
}

/**
 * The first procedure `definition` calls, followed down the calls, that ends the transaction or
 * cannot be checked (the catalog does not show it, or hides its definition); undefined when none.
 */
function calleeEnding(
  definition: string,
  schema: string,
  routines: readonly Row[],
  sameSchema: (catalog: unknown, schema: string) => boolean,
  seen = new Set<string>(),
  depth = 1,
): Callee | undefined {
  for (const [qualifier, name] of calledProcedures(definition)) {
    const calleeSchema = qualifier ?? schema;
    const key = `${calleeSchema}.${name}`.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const callee = `calls "${calleeSchema}.${name}"`;
    const row = routines.find((r) =>
      sameSchema(r.s, calleeSchema) && String(r.n).toLowerCase() === name.toLowerCase() && r.t === "PROCEDURE"
    );
    if (row?.d === null || row?.d === undefined) return { chain: callee, unchecked: true };
    const found = transactionControl(String(row.d));
    if (found) return { chain: `${callee}, which runs ${found}`, unchecked: false };
    if (depth >= MAX_CALL_DEPTH) continue;
    const deeper = calleeEnding(String(row.d), calleeSchema, routines, sameSchema, seen, depth + 1);
    if (deeper) return { ...deeper, chain: `${callee}, which ${deeper.chain}` };
  }
  return undefined;
}

/** Warnings for TXN steps whose routine controls the transaction itself. */
export function txnProblems(options: TxnCheckOptions): VerifyProblem[] {
  const recs = new Map(options.recs.map((t) => [t.name, t]));
  const sameSchema = options.sameSchema ?? ((catalog: unknown, schema: string) => catalog === schema);
  const problems: VerifyProblem[] = [];
  for (const txn of options.transactions) {
    for (const [i, step] of txn.steps.entries()) {
      const target = recs.get(step.spec.template);
      if (!target) continue;
      const call = step.spec.op === "call" ? target.calls.get(step.spec.call ?? "") : undefined;
      const name = call
        ? call.procedure ?? call.function
        : step.spec.op === "call"
        ? undefined
        : target.ops[step.spec.op]?.procedure;
      if (!name) continue;
      const schema = options.schemaOf(target.database);
      const row = options.routines.find((r) =>
        sameSchema(r.s, schema) && String(r.n).toLowerCase() === name.toLowerCase()
      );
      if (!row) continue;
      const kind = String(row.t).toLowerCase();
      const warn = (message: string) =>
        problems.push({
          template: txn.name,
          file: txn.file,
          path: `steps.${i}`,
          object: `${schema}.${name}`,
          message: `${kind} "${schema}.${name}" ${message}`,
          severity: "warning",
        });
      // The catalog hides the definition from an account that may not read it: unread, a COMMIT
      // in it would pass as none.
      if (row.d === null || row.d === undefined) {
        warn(
          `cannot be checked for COMMIT or ROLLBACK: its definition is not readable; only ${DEFINITION_PRIVILEGE} sees it`,
        );
        continue;
      }
      const early = `which ends step "${step.spec.name}"'s transaction early`;
      const own = transactionControl(String(row.d));
      if (own) {
        warn(`runs ${own} itself, ${early}`);
        continue;
      }
      const callee = calleeEnding(String(row.d), schema, options.routines, sameSchema);
      if (callee?.unchecked) {
        warn(
          `${callee.chain}, which cannot be checked for COMMIT or ROLLBACK: the catalog shows no definition of it`,
        );
      } else if (callee) warn(`${callee.chain}, ${early}`);
    }
  }
  return problems;
}
