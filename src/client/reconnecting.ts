/**
 * A {@link BedsClient} that outlives its connection: when RabbitMQ restarts
 * or drops the connection, a fresh client replaces the lost one. A watchdog
 * reconnects with capped, jittered backoff even while no request comes in,
 * so a long-lived process (the HTTP gateway, a load generator, an
 * application server) recovers by itself.
 *
 * Requests in flight when the connection drops fail with `CLOSED` (they may
 * have run); requests made while there is no connection (a connect attempt
 * under way included) fail at once with `DISCONNECTED` (nothing was sent)
 * and start an attempt when the backoff allows, or wait for the next
 * connection when asked to, never past their timeout. A connection RabbitMQ
 * closes soon, before it carried a reply (it refused a request, e.g. to an
 * exchange that does not exist), counts as a failed attempt, so the next one
 * waits its backoff.
 *
 * @module
 */
import { backoffDelay } from "../amqp/mod.ts";
import type { AmqpConfig } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { Reply } from "../protocol/mod.ts";
import { BedsClient } from "./client.ts";
import {
  BedsClientError,
  type BedsClientOptions,
  type RequestBody,
  type RequestOptions,
  timeoutError,
} from "./types.ts";

/** A connection that stayed up this long has proved itself, whether or not it carried a reply. */
const PROVEN_AFTER_MS = 10_000;

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
  /** How long `close()` waits for RabbitMQ, as {@link BedsClientOptions.closeTimeoutMs}. @default 5000 */
  closeTimeoutMs?: BedsClientOptions["closeTimeoutMs"];
  /** `user_id` stamped on every request, as {@link BedsClientOptions.userId}. @default the AMQP user */
  userId?: BedsClientOptions["userId"];
  /** Replies' numbers kept exact, as {@link BedsClientOptions.exactNumbers}. @default false */
  exactNumbers?: boolean;
}

/** Per-request options of a reconnecting client. */
export interface ReconnectingRequestOptions extends RequestOptions {
  /**
   * Wait for the next connection instead of failing `DISCONNECTED` at once. The wait counts
   * against `timeoutMs` (the request's, else the client's): with no connection by then the
   * request fails `DISCONNECTED`, not `TIMEOUT`, for nothing was sent and sending it again is
   * safe. @default false
   */
  waitForConnection?: boolean;
}

/** A self-healing client connection. */
export interface ReconnectingClient {
  /** Connects the first client. @throws when RabbitMQ refuses. */
  open(): Promise<void>;
  /**
   * Sends one request and resolves with its reply.
   * @throws {BedsClientError} `DISCONNECTED` when there is no connection, or
   * with `waitForConnection` none within the timeout (nothing was sent),
   * otherwise as {@link BedsClient.request}.
   */
  request(body: RequestBody, options?: ReconnectingRequestOptions): Promise<Reply>;
  /**
   * Publishes a request with no reply expected, as {@link BedsClient.send}.
   * @throws {BedsClientError} `DISCONNECTED` when there is no connection.
   */
  send(body: RequestBody): Promise<void>;
  /** True while a client is connected. */
  connected(): boolean;
  /** True while RabbitMQ blocks the connection (a resource alarm): requests fail `DISCONNECTED`. */
  blocked(): boolean;
  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void>;
  /** How many times the connection was replaced since `open()`. */
  reconnects(): number;
  /**
   * Stops reconnecting and closes the client as {@link BedsClient.close}; requests waiting for a
   * connection reject `DISCONNECTED`. It does not wait for a connect attempt under way: a connection
   * that opens after close() is closed at once.
   */
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
  /** The next attempt for requests waiting for a connection, when the backoff said wait. */
  let retry: ReturnType<typeof setTimeout> | undefined;
  const waiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  let connectedAt = 0;
  /** The current client carried a reply (or a confirmed send). */
  let proven = false;
  let countedLoss: BedsClient | undefined;

  const down = (message: string) => new BedsClientError("DISCONNECTED", message);

  const connect = (): Promise<BedsClient> => {
    connecting ??= BedsClient.connect({
      amqp: options.amqp,
      name: options.name,
      timeoutMs: options.timeoutMs,
      exchange: options.exchange,
      confirm: options.confirm,
      closeTimeoutMs: options.closeTimeoutMs,
      userId: options.userId,
      exactNumbers: options.exactNumbers,
    })
      .then(
        async (fresh) => {
          connecting = undefined;
          if (stopped) {
            await fresh.close();
            logger?.debug({ name: options.name }, "amqp client connected after close(): closed again");
            throw down("Client is closing");
          }
          if (client) {
            replaced++;
            logger?.info({ attempts: failures + 1, name: options.name }, "amqp client reconnected");
          }
          client = fresh;
          connectedAt = Date.now();
          proven = false;
          const ready = [...waiters];
          waiters.clear();
          for (const waiter of ready) waiter.resolve();
          return fresh;
        },
        (error) => {
          connecting = undefined;
          backOff();
          logger?.warn(
            { err: (error as Error).message, delayMs: nextAttemptAt - Date.now(), name: options.name },
            "amqp client connect failed",
          );
          throw down(`Cannot reach RabbitMQ: ${(error as Error).message}`);
        },
      );
    return connecting;
  };

  const backOff = () => nextAttemptAt = Date.now() + backoffDelay(failures++, { maxMs });

  const prove = (used: BedsClient) => {
    if (used !== client) return;
    proven = true;
    failures = 0;
  };

  /**
   * Counts a lost client once. Reconnecting at once after a connection that never proved itself
   * would open one connection per request while RabbitMQ refuses them all.
   */
  const countLoss = (lost: BedsClient) => {
    if (countedLoss === lost) return;
    countedLoss = lost;
    if (proven || Date.now() - connectedAt >= PROVEN_AFTER_MS) failures = 0;
    else backOff();
  };

  /** The live client, else the attempt under way, else a new one when the backoff allows. */
  const live = (): Promise<BedsClient> => {
    if (client && !client.closed) return Promise.resolve(client);
    if (stopped) return Promise.reject(down("Client is closed"));
    if (client) countLoss(client);
    if (connecting) return connecting;
    if (Date.now() < nextAttemptAt) return Promise.reject(down("No AMQP connection; try again later"));
    return connect();
  };

  /**
   * The live client for a request, or `DISCONNECTED` at once, having started an attempt if none is
   * under way and the backoff allows. The request does not wait for that attempt: one that hangs (a
   * broker that accepts and never answers) lasts up to connect_timeout_ms, past its own timeout.
   */
  const current = (): BedsClient => {
    if (client && !client.closed) return client;
    live().catch(() => {}); // an attempt now, or the one under way; its failure is logged
    throw down(
      stopped ? "Client is closed" : "No AMQP connection; nothing was sent, try again later",
    );
  };

  /** An attempt now, or when the backoff allows, as long as a request waits for a connection. */
  const attemptForWaiters = () => {
    if (retry !== undefined || stopped || !waiters.size) return;
    live().catch(() => {
      if (retry !== undefined || stopped || !waiters.size) return;
      retry = setTimeout(() => {
        retry = undefined;
        attemptForWaiters();
      }, Math.max(0, nextAttemptAt - Date.now()));
    });
  };

  /** Resolves once connected; rejects `DISCONNECTED` on close(), or after `waitMs` when given. */
  const connected = (waitMs?: number): Promise<void> => {
    if (client && !client.closed) return Promise.resolve();
    if (stopped) return Promise.reject(down("Client is closed"));
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = {
        resolve() {
          clearTimeout(timer);
          resolve();
        },
        reject(error: Error) {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (waitMs !== undefined) {
        timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(down(`No AMQP connection within ${waitMs} ms; nothing was sent`));
        }, waitMs);
      }
      waiters.add(waiter);
      attemptForWaiters();
    });
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
      let timeoutMs = requestOptions.timeoutMs;
      if (requestOptions.waitForConnection) {
        const waitMs = timeoutMs ?? options.timeoutMs ?? 10_000;
        const wrong = timeoutError(waitMs);
        if (wrong) throw wrong;
        const deadline = Date.now() + waitMs;
        await connected(waitMs);
        timeoutMs = Math.max(1, deadline - Date.now());
      }
      const c = current();
      const reply = await c.request(body, { ...requestOptions, timeoutMs });
      prove(c);
      return reply;
    },
    async send(body) {
      const c = current();
      await c.send(body);
      if (options.confirm) prove(c);
    },
    connected: () => client !== undefined && !client.closed,
    blocked: () => client !== undefined && !client.closed && client.blocked,
    whenConnected: () => connected(),
    reconnects: () => replaced,
    async close() {
      stopped = true;
      clearInterval(watchdog);
      clearTimeout(retry);
      for (const waiter of waiters) waiter.reject(down("Client is closed"));
      waiters.clear();
      // An attempt under way (up to connect_timeout_ms) is not waited for: it closes what it opens.
      await client?.close();
      client = undefined;
    },
  };
}
