/**
 * Flags TXN steps whose procedure ends the transaction itself (START
 * TRANSACTION, COMMIT, ROLLBACK): inside a TXN template that would commit
 * or roll back the earlier steps early. Pure: reads catalog rows.
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

/** The transaction statements a routine body runs, in order of appearance ("" when none). */
export function transactionControl(definition: string): string {
  const code = definition.replace(NOT_CODE, " ");
  const found = [...code.matchAll(TRANSACTION_CONTROL)].map((m) => m[1]!.replace(/\s+/g, " ").toUpperCase());
  return [...new Set(found)].join(", ");
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
      const found = transactionControl(String(row.d));
      if (found) warn(`runs ${found} itself, which ends step "${step.spec.name}"'s transaction early`);
    }
  }
  return problems;
}
