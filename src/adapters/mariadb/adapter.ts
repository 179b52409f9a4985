/**
 * The MariaDB implementation of the CRUD interface: reads select from a view
 * (or call a procedure), writes and calls invoke stored procedures or
 * functions, always with bound parameters. Reads go to the secondary when
 * one is configured.
 *
 * @module
 */
import { BedsError } from "../../errors.ts";
import type { MariadbConfig } from "../../config/mod.ts";
import type { Logger } from "../../logging/mod.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type {
  Adapter,
  AdapterResult,
  CallInput,
  ReadInput,
  Values,
  VerifyProblem,
  WriteInput,
} from "../types.ts";
import { type ConnectionSet, createConnectionSet } from "./connections.ts";
import { callProcedure, selectFunction, selectView, type Statement } from "./sql.ts";
import { verifyTemplates } from "./verify.ts";

/** Options for {@link createMariadbAdapter}. */
export interface MariadbAdapterOptions {
  config: MariadbConfig;
  logger: Logger;
}

/** A MariaDB adapter with its connections; call `open()` before use. */
export interface MariadbAdapter extends Adapter {
  /** Opens the master (and secondary) connections. */
  open(): Promise<void>;
  /** Physical schema of a logical database name. */
  schemaOf(database: string): string;
}

type Row = Record<string, unknown>;

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

/** Creates the MariaDB adapter. */
export function createMariadbAdapter(options: MariadbAdapterOptions): MariadbAdapter {
  const { config, logger } = options;
  const master: ConnectionSet = createConnectionSet({
    name: "master",
    server: config.master,
    logger,
  });
  const secondary: ConnectionSet | undefined = config.secondary
    ? createConnectionSet({ name: "secondary", server: config.secondary, logger })
    : undefined;
  const reader = secondary ?? master;
  const schemaOf = (database: string) => config.schemas[database] ?? database;

  const run = (set: ConnectionSet, st: Statement) => set.query<unknown>(st.sql, st.values);

  const write = async (template: RecTemplate, op: "create" | "update" | "delete", values: Values) => {
    const spec = template.ops[op]!;
    const result = await run(
      master,
      callProcedure(schemaOf(template.database), spec.procedure, args(spec.params, values)),
    );
    const { rows, affected } = procedureResult(result);
    return { data: rows[0] ?? null, rows: rows.length || affected };
  };

  return {
    store: "mariadb",
    schemaOf,
    async open() {
      await master.open();
      await secondary?.open();
    },

    async read(input: ReadInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = template.ops.read!;
      const schema = schemaOf(template.database);
      if (spec.procedure) {
        const result = await run(
          reader,
          callProcedure(schema, spec.procedure, args(spec.params, input.params)),
        );
        const rows = procedureResult(result).rows.slice(input.offset, input.offset + input.limit);
        return { data: rows, rows: rows.length };
      }
      const where = new Map(input.where);
      if (input.key) { for (const [field, value] of input.key) where.set(field, [value]); }
      const limit = input.key ? 2 : input.limit;
      const rows = await run(
        reader,
        selectView(schema, spec.view!, where, input.order, limit, input.key ? 0 : input.offset),
      ) as Row[];
      if (!input.key) return { data: [...rows], rows: rows.length };
      if (rows.length === 0) {
        throw new BedsError("NOT_FOUND", `No "${template.name}" matches the key`, {
          details: { key: Object.fromEntries(input.key) },
        });
      }
      return { data: rows[0], rows: 1 };
    },

    create: (input: WriteInput) => write(input.template, "create", input.values),
    update: (input: WriteInput) => write(input.template, "update", input.values),
    delete: (input: WriteInput) => write(input.template, "delete", input.values),

    async call(input: CallInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = template.calls.get(input.call)!;
      const schema = schemaOf(template.database);
      const list = args(spec.params, input.values);
      if (spec.function) {
        const rows = await run(master, selectFunction(schema, spec.function, list)) as Row[];
        return { data: rows[0]?.value ?? null, rows: 1 };
      }
      const { rows, affected } = procedureResult(
        await run(master, callProcedure(schema, spec.procedure!, list)),
      );
      return { data: rows, rows: rows.length || affected };
    },

    verify(templates: readonly RecTemplate[]): Promise<VerifyProblem[]> {
      return verifyTemplates(
        templates.filter((t) => t.store === "mariadb"),
        schemaOf,
        (sql, values) => master.query<Row[]>(sql, values),
      );
    },

    health() {
      const m = master.health();
      const s = secondary?.health();
      return {
        healthy: m.alive > 0 && (!s || s.alive > 0),
        detail: s ? { master: m, secondary: s } : { master: m },
      };
    },

    async close() {
      await Promise.all([master.close(), secondary?.close()]);
    },
  };
}
