/**
 * TXN templates' transactions: each on a connection of its own (the shared
 * ones are pipelined), from a small driver pool opened on first use. A
 * transaction is all or nothing only while it stays open, and its COMMIT
 * either is answered or leaves the outcome unknown; both are checked here,
 * because a retry of a transaction that committed applies it twice.
 *
 * @module
 */
import mariadb, { type Pool, type PoolConnection } from "mariadb";
import type { MariadbServerConfig } from "../../config/mod.ts";
import { BedsError } from "../../errors.ts";
import type { Logger } from "../../logging/mod.ts";
import type { TransactionScope } from "../types.ts";
import { driverOptions, SERVER_STATUS_IN_TRANS } from "./driver_options.ts";
import { mapMariadbError, nodeStopping } from "./errors.ts";
import { columnValues } from "./column_values.ts";
import { operations } from "./operations.ts";
import type { Statement } from "./sql.ts";

/** Options for {@link createTransactions}. */
export interface TransactionsOptions {
  /** The master server: its `transaction_connections`, `max_queue` and timeouts. */
  server: MariadbServerConfig;
  schemaOf: (database: string) => string;
  logger: Logger;
}

/** Runs transactions; `close()` ends the pool. */
export interface Transactions {
  run<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /**
   * Destroys the connection of every transaction running (shutdown, see `Adapter.abortInflight`),
   * and refuses the transactions still waiting for one, and any after.
   */
  abortInflight(): void;
  close(): Promise<void>;
}

/**
 * A savepoint set when the transaction begins: a COMMIT or START TRANSACTION inside a step drops
 * it. Its name is new each time, so a step's own savepoint never takes its place.
 */
const savepointName = () => `beds_txn_${crypto.randomUUID().slice(0, 8)}`;

/** The errno of an error or of the first error in its chain of causes that has one. */
function errnoOf(error: unknown): number | undefined {
  for (let e = error as { errno?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.errno === "number") return e.errno;
  }
  return undefined;
}

/** Errors that already say the transaction ended early (those of {@link endedEarly}). */
const endings = new WeakSet<object>();

function isEnding(error: unknown): boolean {
  for (let e = error as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (endings.has(e)) return true;
  }
  return false;
}

/**
 * Whether a failed COMMIT may have committed all the same: its answer never came (a timeout, a
 * connection lost or killed), as opposed to an error the server gave for the COMMIT itself.
 */
function outcomeUnknown(error: unknown): boolean {
  const errno = (error as { cause?: { errno?: unknown } }).cause?.errno;
  return typeof errno !== "number" || errno >= 2000 || errno === 1053 || errno === 1927;
}

/**
 * The error of a transaction a step ended: what came before it may be committed. `cause`: the
 * error the step failed with afterwards, if it did (its step is named).
 */
function endedEarly(cause?: unknown): BedsError {
  const step = (cause as { details?: { step?: unknown } } | undefined)?.details?.step;
  const error = new BedsError(
    "DB_ERROR",
    "The transaction ended before its last step (a COMMIT, ROLLBACK, START TRANSACTION or a statement " +
      "that commits, such as TRUNCATE or DDL, in a procedure): the steps before may be committed" +
      (cause ? `; then ${(cause as Error).message}` : ""),
    { cause, details: { reason: "transaction_ended", ...(typeof step === "string" ? { step } : {}) } },
  );
  endings.add(error);
  return error;
}

/** Whether the server's (or session's) variable `name` is on, as the server says. */
async function serverFlag(query: (sql: string) => Promise<unknown>, name: string): Promise<boolean> {
  const rows = await query(`SELECT @@${name} AS flag`) as Array<{ flag?: unknown }>;
  return Number(rows[0]?.flag) === 1;
}

/** Creates the transactions of a MariaDB adapter (nothing opens until the first one). */
export function createTransactions(options: TransactionsOptions): Transactions {
  const { server, schemaOf, logger } = options;
  let pool: Pool | undefined;
  let waiting = 0;
  /** Aborts each transaction running; set by `abortInflight()`, which also refuses new ones. */
  const running = new Set<() => void>();
  let aborted = false;
  // The server's innodb_rollback_on_timeout, read once: with it, a lock wait timeout rolls back
  // the whole transaction; without it (the default), only the statement.
  let rollsBack: Promise<boolean> | undefined;
  const rollbackOnTimeout = (query: (sql: string) => Promise<unknown>) =>
    rollsBack ??= serverFlag(query, "innodb_rollback_on_timeout").catch(
      () => {
        rollsBack = undefined;
        return true;
      },
    );
  const connections = () =>
    pool ??= mariadb.createPool({
      ...driverOptions(server),
      connectionLimit: server.transaction_connections,
      acquireTimeout: server.connect_timeout_ms,
    });

  return {
    async run<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T> {
      // The driver's pool queues without a bound; cap the waiters like the shared connections do.
      if (waiting >= server.max_queue) {
        throw new BedsError("OVERLOADED", "Database queue is full; try again later");
      }
      if (aborted) throw nodeStopping();
      let conn: PoolConnection;
      waiting++;
      try {
        conn = await connections().getConnection();
      } catch (error) {
        throw mapMariadbError(error);
      } finally {
        waiting--;
      }
      // One that waited for a connection while the shutdown aborted the others would begin only
      // now, and run on after its delivery has gone back to its queue.
      if (aborted) {
        conn.release().catch(() => {});
        throw nodeStopping();
      }
      // The steps prepared, as on the shared connections (connections.ts), so their rows come back
      // typed exactly as a REC read's; the transaction's own statements as plain text.
      const timeoutMs = server.query_timeout_ms;
      let destroyed = false;
      // As connections.ts: destroy() has the driver KILL the session, which rolls the transaction
      // back, and fail the statement running. A COMMIT it cuts short has an unknown outcome.
      const abort = () => {
        if (destroyed) return;
        destroyed = true;
        conn.destroy();
      };
      running.add(abort);
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
          return columnValues(await Promise.race([answer, timedOut]));
        } finally {
          clearTimeout(timer);
        }
      };
      const savepoint = savepointName();
      const ended = (cause?: unknown) => {
        logger.error("a TXN step ended its transaction: the steps before it may be committed");
        return endedEarly(cause);
      };
      /**
       * What a failed step's transaction failed with. A step may have ended the transaction and
       * then failed (a lock wait after a COMMIT, say): its own error would be retried as a whole.
       * The server tells: no transaction open, or the savepoint gone, the one it was set in ended.
       */
      const stepFailure = async (error: unknown): Promise<unknown> => {
        if (destroyed || isEnding(error)) return error;
        // Asked, not read from the driver's status flags: an error packet carries none, so after
        // an error they still say what the last answer before it did.
        let open: boolean;
        try {
          open = await serverFlag(query, "in_transaction");
        } catch {
          return error;
        }
        if (!open) {
          // A deadlock, or a lock wait with innodb_rollback_on_timeout, rolled the whole
          // transaction back: nothing committed, and a retry is right. (A step that committed and
          // then deadlocked looks the same, and is not told apart.) Anything else ended it in the
          // step: a COMMIT, or a ROLLBACK (an EXIT HANDLER's), which the server does not tell apart.
          const errno = errnoOf(error);
          if (errno === 1213 || (errno === 1205 && await rollbackOnTimeout(query))) return error;
          return ended(error);
        }
        try {
          await query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
          return error;
        } catch (probe) {
          return errnoOf(probe) === 1305 ? ended(error) : error;
        }
      };
      // A step answered with the transaction no longer open (a COMMIT, or a statement that commits
      // implicitly) has left the steps before it committed, whatever comes after.
      const step = async (st: Statement) => {
        const result = await query(st);
        if (((conn.info?.status ?? 0) & SERVER_STATUS_IN_TRANS) === 0) throw ended();
        return result;
      };
      try {
        await query("START TRANSACTION");
        await query(`SAVEPOINT ${savepoint}`);
        let result: T;
        try {
          result = await work(operations(schemaOf, step, step));
        } catch (error) {
          throw await stepFailure(error);
        }
        // A START TRANSACTION inside a step committed what came before and began anew, which the
        // server's status does not tell: the savepoint is gone with the transaction it was set in.
        await query(`RELEASE SAVEPOINT ${savepoint}`).catch((error) => {
          throw errnoOf(error) === 1305 ? ended() : error;
        });
        try {
          await query("COMMIT");
        } catch (error) {
          if (!outcomeUnknown(error)) throw error;
          // Not DB_UNAVAILABLE: a retry of a transaction that did commit would apply it twice.
          throw new BedsError(
            "DB_ERROR",
            "No answer to the COMMIT: the transaction may have been committed; check before sending it again",
            { cause: error, details: { step: "commit", outcome: "unknown" } },
          );
        }
        return result;
      } catch (error) {
        // Bounded as every statement is: on a connection that stopped answering it would wait for ever.
        if (!destroyed) {
          await query("ROLLBACK").catch(() => {
            if (!destroyed) conn.destroy();
            destroyed = true;
          });
        }
        throw error;
      } finally {
        running.delete(abort);
        conn.release().catch(() => {});
      }
    },

    abortInflight() {
      aborted = true;
      for (const abort of running) abort();
    },

    async close() {
      await pool?.end().catch(() => {});
    },
  };
}
