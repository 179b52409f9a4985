/**
 * A small set of dedicated, pipelined MariaDB connections. Each query goes to
 * the live connection with the fewest queries in flight; the driver pipelines
 * them on the socket. This costs far less CPU per call than the driver's pool
 * (measured by the lab bench), and a lost connection is re-opened in the
 * background with capped exponential backoff while the others keep serving.
 *
 * Every statement runs as a prepared statement (binary protocol), prepared
 * once per connection and text (the driver's cache, `prepareCacheLength`):
 * values are bound as they are, never escaped into SQL text, and the server
 * neither parses the text again nor resends the result's column definitions.
 * Measured in the lab against text queries: node CPU −12 % per read and −22 %
 * per fan-out, fan-out throughput +40 %.
 *
 * @module
 */
import mariadb, { type Connection } from "mariadb";
import { BedsError } from "../../errors.ts";
import type { MariadbServerConfig } from "../../config/mod.ts";
import type { Logger } from "../../logging/mod.ts";
import { mapMariadbError } from "./errors.ts";
import { tlsOptions } from "../../tls.ts";
import { coalescedSocket } from "./socket.ts";

interface Slot {
  conn: Connection | undefined;
  inflight: number;
  retries: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Options for {@link createConnectionSet}. */
export interface ConnectionSetOptions {
  /** Label used in logs and health ("master", "secondary"). */
  name: string;
  server: MariadbServerConfig;
  logger: Logger;
}

/** Health of one connection set. */
export interface ConnectionSetHealth {
  size: number;
  alive: number;
  inflight: number;
}

/** Dedicated pipelined connections with least-loaded routing. */
export interface ConnectionSet {
  /** Opens every connection. @throws {BedsError} `DB_UNAVAILABLE` if none opens. */
  open(): Promise<void>;
  /** Runs one statement. */
  query<T = unknown>(sql: string, values: unknown[]): Promise<T>;
  health(): ConnectionSetHealth;
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 5000;

/** Creates (but does not open) a connection set. */
export function createConnectionSet(options: ConnectionSetOptions): ConnectionSet {
  const { server, logger, name } = options;
  const slots: Slot[] = Array.from(
    { length: server.connections },
    () => ({ conn: undefined, inflight: 0, retries: 0, timer: undefined }),
  );
  let closed = false;
  let inflight = 0;

  const connect = async (slot: Slot) => {
    const conn = await mariadb.createConnection({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      connectTimeout: server.connect_timeout_ms,
      pipelining: true,
      bigIntAsNumber: true,
      decimalAsNumber: false,
      insertIdAsNumber: true,
      dateStrings: false,
      // Session and values in UTC, whatever the node's own time zone.
      timezone: "Z",
      ssl: server.tls ? tlsOptions(server.tls) : undefined,
      // Plain TCP: the queries of one turn of the event loop leave in one write (see socket.ts).
      // Over TLS the driver upgrades the socket itself; its writes stay as they are.
      ...(server.tls ? {} : { stream: () => coalescedSocket(server.host, server.port) }),
    });
    conn.on("error", (error: unknown) => lost(slot, conn, error));
    slot.conn = conn;
    slot.retries = 0;
  };

  const lost = (slot: Slot, conn: Connection, error: unknown) => {
    if (slot.conn !== conn) return;
    slot.conn = undefined;
    if (closed) return;
    logger.warn({ db: name, err: (error as Error)?.message }, "mariadb connection lost");
    schedule(slot);
  };

  const schedule = (slot: Slot) => {
    if (closed || slot.timer !== undefined) return;
    const base = Math.min(MAX_BACKOFF_MS, 100 * 2 ** slot.retries++);
    slot.timer = setTimeout(async () => {
      slot.timer = undefined;
      try {
        await connect(slot);
        logger.info({ db: name }, "mariadb connection re-opened");
      } catch (error) {
        logger.debug({ db: name, err: (error as Error).message }, "mariadb reconnect failed");
        schedule(slot);
      }
    }, base / 2 + Math.random() * base / 2);
  };

  // A statement left the slot: its answer or its error came.
  const settle = (slot: Slot) => {
    slot.inflight--;
    inflight--;
  };

  const pick = (): Slot | undefined => {
    let best: Slot | undefined;
    for (const slot of slots) {
      if (slot.conn && (!best || slot.inflight < best.inflight)) best = slot;
    }
    return best;
  };

  return {
    async open() {
      const results = await Promise.allSettled(slots.map((slot) => connect(slot)));
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      if (failed.length === slots.length) {
        throw new BedsError(
          "DB_UNAVAILABLE",
          `Cannot connect to MariaDB ${name} at ${server.host}:${server.port}: ${
            (failed[0]!.reason as Error).message
          }`,
          { cause: failed[0]!.reason },
        );
      }
      for (const [i, r] of results.entries()) if (r.status === "rejected") schedule(slots[i]!);
    },

    query<T>(sql: string, values: unknown[]): Promise<T> {
      const slot = pick();
      if (!slot) return Promise.reject(new BedsError("DB_UNAVAILABLE", "Database unavailable; try again"));
      if (inflight >= server.max_queue) {
        return Promise.reject(new BedsError("OVERLOADED", "Database queue is full; try again later"));
      }
      const conn = slot.conn!;
      slot.inflight++;
      inflight++;
      // The SQL as a plain string: an options object makes the driver build every command's
      // options on a prototype chain of the connection's (and turns those into a prototype,
      // slowing every option read the parser makes per column). Named placeholders are off by
      // default, which is what the `?` of our statements need. `then` rather than `async`: one
      // frame less per statement, and a fan-out makes two dozen.
      return conn.execute(sql, values).then(
        (result) => {
          settle(slot);
          return result as T;
        },
        (error) => {
          settle(slot);
          // A fatal error (killed, reset) leaves the connection unusable even if no "error" event came.
          if ((error as { fatal?: boolean }).fatal) lost(slot, conn, error);
          throw mapMariadbError(error);
        },
      );
    },

    health: () => ({
      size: slots.length,
      alive: slots.filter((s) => s.conn).length,
      inflight,
    }),

    async close() {
      closed = true;
      await Promise.allSettled(slots.map(async (slot) => {
        clearTimeout(slot.timer);
        const conn = slot.conn;
        slot.conn = undefined;
        await conn?.end().catch(() => conn.destroy());
      }));
    },
  };
}
