/**
 * The gateway's way into BEDS: a {@link BedsClient} that is replaced by a
 * fresh one when its connection is lost. A watchdog reconnects with capped
 * backoff even while no HTTP request comes in, so `/ready` recovers by
 * itself after a broker restart.
 *
 * @module
 */
import { BedsClient, type RequestBody } from "../client/mod.ts";
import { backoffDelay } from "../amqp/mod.ts";
import type { AmqpConfig } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { Reply } from "../protocol/mod.ts";

/** The gateway has no AMQP connection now; the request was not sent. */
export class LinkDownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkDownError";
  }
}

/** Options for {@link createGatewayLink}. */
export interface GatewayLinkOptions {
  amqp: AmqpConfig;
  /** Connection name shown by RabbitMQ. */
  name: string;
  logger: Logger;
  /** How often the watchdog looks at the connection. @default 1000 */
  watchMs?: number;
}

/** A self-healing client connection. */
export interface GatewayLink {
  /** Connects the first client. @throws when RabbitMQ refuses. */
  open(): Promise<void>;
  /**
   * Sends one request and resolves with its reply.
   * @throws {LinkDownError} when there is no connection (nothing was sent);
   * `BedsClientError` on timeout, unroutable request or a connection lost mid-request.
   */
  request(body: RequestBody, timeoutMs: number): Promise<Reply>;
  /** True while a client is connected. */
  connected(): boolean;
  close(): Promise<void>;
}

/** Creates a link; nothing connects until `open()`. */
export function createGatewayLink(options: GatewayLinkOptions): GatewayLink {
  const { logger } = options;
  let client: BedsClient | undefined;
  let connecting: Promise<BedsClient> | undefined;
  let failures = 0;
  let nextAttemptAt = 0;
  let stopped = false;
  let watchdog: ReturnType<typeof setInterval> | undefined;

  const connect = (): Promise<BedsClient> => {
    connecting ??= BedsClient.connect({ amqp: options.amqp, name: options.name }).then(
      async (fresh) => {
        connecting = undefined;
        if (stopped) {
          await fresh.close();
          throw new LinkDownError("Gateway is stopping");
        }
        if (failures > 0 || client) logger.info({ attempts: failures + 1 }, "gateway amqp reconnected");
        client = fresh;
        failures = 0;
        return fresh;
      },
      (error) => {
        connecting = undefined;
        const delayMs = backoffDelay(failures++);
        nextAttemptAt = Date.now() + delayMs;
        logger.warn({ err: (error as Error).message, delayMs }, "gateway amqp connect failed");
        throw new LinkDownError(`Gateway cannot reach RabbitMQ: ${(error as Error).message}`);
      },
    );
    return connecting;
  };

  const live = (): Promise<BedsClient> => {
    if (client && !client.closed) return Promise.resolve(client);
    if (stopped) return Promise.reject(new LinkDownError("Gateway is stopping"));
    if (connecting) return connecting;
    if (Date.now() < nextAttemptAt) {
      return Promise.reject(new LinkDownError("Gateway has no AMQP connection; try again later"));
    }
    return connect();
  };

  return {
    async open() {
      await connect().catch((error) => {
        // The first connection must work: RabbitMQ was reachable a moment ago in IPL.
        nextAttemptAt = 0;
        failures = 0;
        throw error;
      });
      watchdog = setInterval(() => {
        if (!client || client.closed) live().catch(() => {});
      }, options.watchMs ?? 1000);
      Deno.unrefTimer(watchdog);
    },
    async request(body, timeoutMs) {
      const c = await live();
      return await c.request(body, { timeoutMs });
    },
    connected: () => client !== undefined && !client.closed,
    async close() {
      stopped = true;
      clearInterval(watchdog);
      await connecting?.catch(() => {});
      await client?.close();
      client = undefined;
    },
  };
}
