/**
 * The MariaDB implementation of the CRUD interface: reads select from a view
 * (or call a procedure), writes and calls invoke stored procedures or
 * functions, always with bound parameters. Reads go to the secondary when
 * one is configured; transactions take one exclusive connection.
 *
 * @module
 */
import type { MariadbConfig } from "../../config/mod.ts";
import type { Logger } from "../../logging/mod.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { Adapter, VerifyOptions, VerifyProblem } from "../types.ts";
import { type ConnectionSet, createConnectionSet } from "./connections.ts";
import { operations } from "./operations.ts";
import { createTransactions } from "./transactions.ts";
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
  const schemaOf = (database: string) =>
    Object.hasOwn(config.schemas, database) ? config.schemas[database]! : database;
  const shared = operations(
    schemaOf,
    (st) => reader.query(st.sql, st.values),
    (st) => master.query(st.sql, st.values),
  );
  const transactions = createTransactions({ server: config.master, schemaOf, logger });

  return {
    store: "mariadb",
    schemaOf,
    async open() {
      await master.open();
      await secondary?.open();
    },
    read: shared.read,
    create: shared.create,
    update: shared.update,
    delete: shared.delete,
    call: shared.call,

    transaction: (work) => transactions.run(work),

    async verify(templates: readonly RecTemplate[], options?: VerifyOptions): Promise<VerifyProblem[]> {
      // A name the config does not map would be taken as a schema of its own: a typo, or an env
      // file without the mapping, would read and write whatever schema has that name.
      const ours = templates.filter((t) => t.store === "mariadb");
      const unmapped = ours.filter((t) => !Object.hasOwn(config.schemas, t.database));
      const keys = Object.keys(config.schemas).map((k) => `"${k}"`).join(", ") || "none";
      const problems: VerifyProblem[] = unmapped.map((t) => ({
        template: t.name,
        file: t.file,
        path: "template.database",
        object: t.database,
        message: `database "${t.database}" is not a key of [databases.mariadb.schemas] (${keys})`,
        severity: "error",
      }));
      return problems.concat(
        await verifyTemplates({
          templates: ours.filter((t) => !unmapped.includes(t)),
          schemaOf,
          // One catalog query at a time, so a small max_queue never refuses the node's own start.
          query: oneAtATime((sql: string, values: unknown[]) => master.query<Row[]>(sql, values)),
          drift: options?.drift ?? false,
          transactions: options?.transactions ?? [],
          rels: options?.rels ?? [],
          readProbe: {
            query: oneAtATime((sql: string, values: unknown[]) => reader.query<Row[]>(sql, values)),
            server: secondary ? "the secondary (reads go there)" : "the master",
          },
        }),
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

    abortInflight() {
      master.abortInflight();
      secondary?.abortInflight();
      transactions.abortInflight();
    },

    async close() {
      await Promise.all([master.close(), secondary?.close(), transactions.close()]);
    },
  };
}

/** Wraps `fn` so that its calls run one after another. */
function oneAtATime<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let last: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const next = last.then(() => fn(...args));
    last = next.catch(() => {});
    return next;
  };
}
