/**
 * A {@link BedsClient} that outlives its connection: when RabbitMQ restarts
 * or drops the connection, a fresh client replaces the lost one. A watchdog
 * reconnects with capped, jittered backoff even while no request comes in,
 * so a long-lived process (the HTTP gateway, a load generator, an
 * application server) recovers by itself.
 *
 * Requests in flight when the connection drops fail with `CLOSED` (they may
 * have run); requests made while there is no connection fail at once with
 * `DISCONNECTED` (nothing was sent), or wait for the next connection when
 * asked to.
 *
 * @module
 */
import { backoffDelay } from "../amqp/mod.ts";
import type { AmqpConfig } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { Reply } from "../protocol/mod.ts";
import { BedsClient } from "./client.ts";
import { BedsClientError, type RequestBody, type RequestOptions } from "./types.ts";

/** Options for {@link createReconnectingClient}. */
export interface ReconnectingClientOptions {
  amqp: AmqpConfig;
  /** Connection name shown by RabbitMQ. */
  name: string;
  /** Where reconnects and failed attempts are logged. */
  logger?: Logger;
  /** Default time to wait for a reply. @default 10000 */
  timeoutMs?: number;
  /** How often the watchdog looks at the connection. @default 1000 */
  watchMs?: number;
  /** Backoff cap between reconnect attempts. @default 5000 */
  maxBackoffMs?: number;
  /** Exchange requests go to. @default the config's `amqp.exchange` */
  exchange?: string;
  /** Publisher confirms for `send()`. @default false */
  confirm?: boolean;
}

/** Per-request options of a reconnecting client. */
export interface ReconnectingRequestOptions extends RequestOptions {
  /** Wait for the next connection instead of failing `DISCONNECTED`. @default false */
  waitForConnection?: boolean;
}

/** A self-healing client connection. */
export interface ReconnectingClient {
  /** Connects the first client. @throws when RabbitMQ refuses. */
  open(): Promise<void>;
  /**
   * Sends one request and resolves with its reply.
   * @throws {BedsClientError} `DISCONNECTED` when there is no connection
   * (nothing was sent), otherwise as {@link BedsClient.request}.
   */
  request(body: RequestBody, options?: ReconnectingRequestOptions): Promise<Reply>;
  /**
   * Publishes a request with no reply expected, as {@link BedsClient.send}.
   * @throws {BedsClientError} `DISCONNECTED` when there is no connection.
   */
  send(body: RequestBody): Promise<void>;
  /** True while a client is connected. */
  connected(): boolean;
  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void>;
  /** How many times the connection was replaced since `open()`. */
  reconnects(): number;
  close(): Promise<void>;
}

/** Creates a reconnecting client; nothing connects until `open()`. */
export function createReconnectingClient(options: ReconnectingClientOptions): ReconnectingClient {
  const { logger } = options;
  const maxMs = options.maxBackoffMs ?? 5000;
  let client: BedsClient | undefined;
  let connecting: Promise<BedsClient> | undefined;
  let failures = 0;
  let nextAttemptAt = 0;
  let replaced = 0;
  let stopped = false;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  let waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  const down = (message: string) => new BedsClientError("DISCONNECTED", message);

  const connect = (): Promise<BedsClient> => {
    connecting ??= BedsClient.connect({
      amqp: options.amqp,
      name: options.name,
      timeoutMs: options.timeoutMs,
      exchange: options.exchange,
      confirm: options.confirm,
    })
      .then(
        async (fresh) => {
          connecting = undefined;
          if (stopped) {
            await fresh.close();
            throw down("Client is closing");
          }
          if (client) {
            replaced++;
            logger?.info({ attempts: failures + 1, name: options.name }, "amqp client reconnected");
          }
          client = fresh;
          failures = 0;
          const ready = waiters;
          waiters = [];
          for (const waiter of ready) waiter.resolve();
          return fresh;
        },
        (error) => {
          connecting = undefined;
          const delayMs = backoffDelay(failures++, { maxMs });
          nextAttemptAt = Date.now() + delayMs;
          logger?.warn(
            { err: (error as Error).message, delayMs, name: options.name },
            "amqp client connect failed",
          );
          throw down(`Cannot reach RabbitMQ: ${(error as Error).message}`);
        },
      );
    return connecting;
  };

  const live = (): Promise<BedsClient> => {
    if (client && !client.closed) return Promise.resolve(client);
    if (stopped) return Promise.reject(down("Client is closed"));
    if (connecting) return connecting;
    if (Date.now() < nextAttemptAt) return Promise.reject(down("No AMQP connection; try again later"));
    return connect();
  };

  const whenConnected = (): Promise<void> => {
    if (client && !client.closed) return Promise.resolve();
    if (stopped) return Promise.reject(down("Client is closed"));
    const waiting = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    live().catch(() => {}); // an attempt now, unless one is running or the backoff says wait
    return waiting;
  };

  return {
    async open() {
      await connect().catch((error) => {
        // The first connection must work: a caller that cannot reach RabbitMQ at start should know.
        nextAttemptAt = 0;
        failures = 0;
        throw error;
      });
      watchdog = setInterval(() => {
        if (!client || client.closed) live().catch(() => {});
      }, options.watchMs ?? 1000);
      Deno.unrefTimer(watchdog);
    },
    async request(body, requestOptions = {}) {
      if (requestOptions.waitForConnection) await whenConnected();
      const c = await live();
      return await c.request(body, requestOptions);
    },
    async send(body) {
      const c = await live();
      await c.send(body);
    },
    connected: () => client !== undefined && !client.closed,
    whenConnected,
    reconnects: () => replaced,
    async close() {
      stopped = true;
      clearInterval(watchdog);
      for (const waiter of waiters.splice(0)) waiter.reject(down("Client is closed"));
      await connecting?.catch(() => {});
      await client?.close();
      client = undefined;
    },
  };
}
