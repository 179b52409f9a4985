/**
 * A supervised AMQP connection. When the connection closes without `stop()`
 * (broker restart, killed connection, missed heartbeats) it pauses its users,
 * reconnects with backoff and jitter, re-runs every registered setup
 * (topology, consumers) in order, and reports each state change.
 *
 * @module
 */
import type { AmqpConfig } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import { type AmqpConnection, closeConnection, connectAmqp } from "./connection.ts";
import { backoffDelay } from "./backoff.ts";
import type { AmqpStatus } from "./status.ts";

/** Work to run on every (re)connection. */
export type ConnectionSetup = (connection: AmqpConnection) => Promise<void>;

/** Options for {@link createAmqpSupervisor}. */
export interface AmqpSupervisorOptions {
  config: AmqpConfig;
  /** Connection name shown by RabbitMQ. */
  name: string;
  /** Receives every state change. */
  onStatus: (status: AmqpStatus) => void;
  /** Called once the connection is lost, before reconnecting. */
  onLost?: () => void;
  /** Passed to {@link connectAmqp} (a debug note if amqplib's writes cannot be coalesced). */
  logger?: Pick<Logger, "debug">;
  /** Passed to {@link connectAmqp}: bodies received past it are cut short. @default no limit */
  maxBodyBytes?: number;
  /** Backoff bounds. @default 200 ms … 15 s */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** A connection that comes back by itself. */
export interface AmqpSupervisor {
  /** Opens the first connection. @throws when it cannot. */
  start(): Promise<AmqpConnection>;
  /** Adds a setup run now (if connected) and after every reconnect. */
  addSetup(setup: ConnectionSetup): Promise<void>;
  /** The open connection, if any. */
  current(): AmqpConnection | undefined;
  /** Number of reconnects so far. */
  reconnects(): number;
  /** Closes for good: waits for RabbitMQ's answer up to `CLOSE_TIMEOUT_MS` (connection.ts), then drops the socket. */
  stop(): Promise<void>;
}

/** Creates a supervisor; nothing connects until `start()`. */
export function createAmqpSupervisor(options: AmqpSupervisorOptions): AmqpSupervisor {
  const setups: ConnectionSetup[] = [];
  let connection: AmqpConnection | undefined;
  let stopped = false;
  let reconnects = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  // One reconnect loop at a time: a connection lost while the loop runs its setups is the loop's
  // to retry, or two loops would each open a connection and run every setup on it.
  let reconnecting: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const open = async (): Promise<AmqpConnection> => {
    const conn = await connectAmqp(options.config, {
      name: options.name,
      logger: options.logger,
      maxBodyBytes: options.maxBodyBytes,
    });
    let blocked = false;
    conn.on("error", () => {}); // "close" follows and drives recovery
    conn.on("blocked", (reason: string) => {
      blocked = true;
      options.onStatus({ type: "blocked", reason });
    });
    conn.on("unblocked", () => {
      blocked = false;
      options.onStatus({ type: "unblocked" });
    });
    conn.on("close", (error?: Error) => {
      // A connection closed while blocked never says "unblocked", and the next one may never be
      // blocked at all: say it here, or the blocked state would outlive its connection.
      if (blocked) options.onStatus({ type: "unblocked" });
      if (connection !== conn) return;
      connection = undefined;
      if (stopped) return;
      options.onStatus({ type: "disconnected", reason: error?.message ?? "connection closed" });
      options.onLost?.();
      reconnecting ??= reconnect().finally(() => reconnecting = undefined);
    });
    return conn;
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    }).finally(() => {
      timer = undefined;
      wake = undefined;
    });

  const reconnect = async () => {
    for (let attempt = 0; !stopped; attempt++) {
      const delayMs = backoffDelay(attempt, {
        initialMs: options.initialDelayMs,
        maxMs: options.maxDelayMs,
      });
      options.onStatus({ type: "reconnecting", attempt: attempt + 1, delayMs });
      await pause(delayMs);
      if (stopped) return;
      let conn: AmqpConnection | undefined;
      try {
        conn = await open();
        if (stopped) {
          await closeConnection(conn);
          return;
        }
        connection = conn;
        for (const setup of setups) {
          await setup(conn);
          if (connection !== conn) throw new Error("connection lost while it was being set up");
        }
        if (stopped) return; // stop() closed it
        reconnects++;
        options.onStatus({ type: "connected", attempt: attempt + 1 });
        return;
      } catch (error) {
        if (stopped) return;
        options.onStatus({
          type: "reconnect_failed",
          attempt: attempt + 1,
          reason: (error as Error).message,
        });
        if (conn) {
          if (connection === conn) connection = undefined;
          await closeConnection(conn);
        }
      }
    }
  };

  return {
    async start() {
      connection = await open();
      options.onStatus({ type: "connected", attempt: 0 });
      return connection;
    },
    async addSetup(setup) {
      setups.push(setup);
      // A reconnect under way runs it after the setups before it, on the connection it opens;
      // run here as well, it would run twice, and before them.
      if (reconnecting) await reconnecting;
      else if (connection) await setup(connection);
    },
    current: () => connection,
    reconnects: () => reconnects,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      const conn = connection;
      connection = undefined;
      // Bounded: RabbitMQ may not answer (a resource alarm, a silent network), and a node told to stop must exit.
      if (conn) await closeConnection(conn);
      options.onStatus({ type: "closed" });
    },
  };
}
