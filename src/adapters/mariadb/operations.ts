/**
 * The CRUD operations of the MariaDB adapter over any query function, so
 * the same code runs on the shared pipelined connections and on one
 * exclusive connection inside a transaction.
 *
 * @module
 */
import { BedsError } from "../../errors.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { AdapterResult, CallInput, ReadInput, Values, WriteInput } from "../types.ts";
import { callProcedure, selectFunction, selectView, type Statement } from "./sql.ts";

type Row = Record<string, unknown>;

/** Runs one statement. */
export type Query = (statement: Statement) => Promise<unknown>;

/** The five operations bound to query functions. */
export interface Operations {
  create(input: WriteInput): Promise<AdapterResult>;
  read(input: ReadInput): Promise<AdapterResult>;
  update(input: WriteInput): Promise<AdapterResult>;
  delete(input: WriteInput): Promise<AdapterResult>;
  call(input: CallInput): Promise<AdapterResult>;
}

/** Splits a CALL result into its first result set and affected-row count. */
function procedureResult(result: unknown): { rows: Row[]; affected: number } {
  if (!Array.isArray(result)) {
    return { rows: [], affected: (result as { affectedRows?: number })?.affectedRows ?? 0 };
  }
  const first = result[0];
  if (Array.isArray(first)) return { rows: first as Row[], affected: first.length };
  return { rows: [], affected: (first as { affectedRows?: number })?.affectedRows ?? 0 };
}

function args(params: readonly string[], values: Values): unknown[] {
  return params.map((name) => values.has(name) ? values.get(name) : null);
}

/** Binds the operations to `read` (reads) and `write` (everything else) queries. */
export function operations(
  schemaOf: (database: string) => string,
  read: Query,
  write: Query,
): Operations {
  const change = async (template: RecTemplate, op: "create" | "update" | "delete", values: Values) => {
    const spec = template.ops[op]!;
    const result = await write(
      // The loader requires a procedure on every write op of a mariadb template.
      callProcedure(schemaOf(template.database), spec.procedure!, args(spec.params, values)),
    );
    const { rows, affected } = procedureResult(result);
    return { data: rows[0] ?? null, rows: rows.length || affected };
  };

  // A read by key alone has the same SQL text every time for a template, so it is built once:
  // a fan-out makes two dozen such reads per request, and each fresh text was a dozen strings
  // for the collector and a fresh parse for the driver.
  const keySql = new WeakMap<RecTemplate, string>();
  const viewStatement = (input: ReadInput, schema: string, view: string): Statement => {
    const { key, template } = input;
    if (!key) return selectView(schema, view, input.where, input.order, input.limit, input.offset);
    const fields = template.ops.read!.key;
    if (fields && fields.length === key.size && !input.where.size && !input.order.length) {
      const values: unknown[] = [];
      for (const field of fields) {
        const value = key.get(field);
        // NULL needs `IS NULL`, not `= ?`: the general path writes it.
        if (value === null || value === undefined) break;
        values.push(value);
      }
      if (values.length === fields.length) {
        let sql = keySql.get(template);
        if (sql === undefined) {
          sql = selectView(schema, view, new Map(fields.map((f) => [f, [0]])), [], 2, 0).sql;
          keySql.set(template, sql);
        }
        values.push(2, 0);
        return { sql, values };
      }
    }
    const where = new Map(input.where);
    for (const [field, value] of key) where.set(field, [value]);
    return selectView(schema, view, where, input.order, 2, 0);
  };

  return {
    async read(input: ReadInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = template.ops.read!;
      const schema = schemaOf(template.database);
      if (spec.procedure) {
        const result = await read(callProcedure(schema, spec.procedure, args(spec.params, input.params)));
        const rows = procedureResult(result).rows.slice(input.offset, input.offset + input.limit);
        return { data: rows, rows: rows.length };
      }
      const rows = await read(viewStatement(input, schema, spec.view!)) as Row[];
      if (!input.key) return { data: [...rows], rows: rows.length };
      if (rows.length === 0) {
        throw new BedsError("NOT_FOUND", `No "${template.name}" matches the key`, {
          details: { key: Object.fromEntries(input.key) },
        });
      }
      // The view holds the key more than once: which row is "the" one is the server's choice, and a
      // reply (or a fan-out part fed by it) would name a row the client did not mean.
      if (rows.length > 1) {
        throw new BedsError(
          "DB_ERROR",
          `The key of "${template.name}" matches more than one row of view "${spec.view}": the template's key ` +
            "does not identify one row",
          { details: { key: Object.fromEntries(input.key) } },
        );
      }
      return { data: rows[0], rows: 1 };
    },
    create: (input) => change(input.template, "create", input.values),
    update: (input) => change(input.template, "update", input.values),
    delete: (input) => change(input.template, "delete", input.values),
    async call(input: CallInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = template.calls.get(input.call)!;
      const schema = schemaOf(template.database);
      const list = args(spec.params, input.values);
      if (spec.function) {
        const rows = await write(selectFunction(schema, spec.function, list)) as Row[];
        return { data: rows[0]?.value ?? null, rows: 1 };
      }
      const { rows, affected } = procedureResult(await write(callProcedure(schema, spec.procedure!, list)));
      return { data: rows, rows: rows.length || affected };
    },
  };
}
