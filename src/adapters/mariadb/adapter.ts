/**
 * The MariaDB implementation of the CRUD interface: reads select from a view
 * (or call a procedure), writes and calls invoke stored procedures or
 * functions, always with bound parameters. Reads go to the secondary when
 * one is configured; transactions take one exclusive connection.
 *
 * @module
 */
import mariadb, { type Pool, type PoolConnection } from "mariadb";
import type { MariadbConfig } from "../../config/mod.ts";
import type { Logger } from "../../logging/mod.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { Adapter, TransactionScope, VerifyOptions, VerifyProblem } from "../types.ts";
import { type ConnectionSet, createConnectionSet } from "./connections.ts";
import { driverOptions } from "./driver_options.ts";
import { parseJsonColumns } from "./json_columns.ts";
import { mapMariadbError } from "./errors.ts";
import { BedsError } from "../../errors.ts";
import { operations } from "./operations.ts";
import type { Statement } from "./sql.ts";
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
  // Transactions need a connection of their own: the shared ones are pipelined.
  let txPool: Pool | undefined;
  let txWaiting = 0;
  const txConnections = () =>
    txPool ??= mariadb.createPool({
      ...driverOptions(config.master),
      connectionLimit: config.master.transaction_connections,
      acquireTimeout: config.master.connect_timeout_ms,
    });

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

    async transaction<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T> {
      // The driver's pool queues without a bound; cap the waiters like the shared connections do.
      if (txWaiting >= config.master.max_queue) {
        throw new BedsError("OVERLOADED", "Database queue is full; try again later");
      }
      let conn: PoolConnection;
      txWaiting++;
      try {
        conn = await txConnections().getConnection();
      } catch (error) {
        throw mapMariadbError(error);
      } finally {
        txWaiting--;
      }
      // The steps prepared, as on the shared connections (connections.ts), so their rows come back
      // typed exactly as a REC read's; the transaction's own statements as plain text.
      const timeoutMs = config.master.query_timeout_ms;
      let destroyed = false;
      const query = async (st: Statement | string) => {
        // Past the timeout the statement fails here, whatever the driver does (cut off from its
        // server it may never settle it), and the connection is closed: the server rolls back.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            destroyed = true;
            conn.destroy();
            reject(new BedsError("DB_UNAVAILABLE", `No answer from MariaDB within ${timeoutMs} ms`));
          }, timeoutMs);
        });
        const answer = (typeof st === "string" ? conn.query(st) : conn.execute(st.sql, st.values)).catch(
          (error) => {
            throw mapMariadbError(error);
          },
        );
        try {
          return parseJsonColumns(await Promise.race([answer, timedOut]));
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        await query("START TRANSACTION");
        const result = await work(operations(schemaOf, query, query));
        await query("COMMIT");
        return result;
      } catch (error) {
        if (!destroyed) await conn.query("ROLLBACK").catch(() => conn.destroy());
        throw error;
      } finally {
        conn.release().catch(() => {});
      }
    },

    verify(templates: readonly RecTemplate[], options?: VerifyOptions): Promise<VerifyProblem[]> {
      return verifyTemplates({
        templates: templates.filter((t) => t.store === "mariadb"),
        schemaOf,
        // One catalog query at a time, so a small max_queue never refuses the node's own start.
        query: oneAtATime((sql: string, values: unknown[]) => master.query<Row[]>(sql, values)),
        drift: options?.drift ?? false,
        transactions: options?.transactions ?? [],
      });
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
      await Promise.all([master.close(), secondary?.close(), txPool?.end().catch(() => {})]);
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
