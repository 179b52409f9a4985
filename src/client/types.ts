/**
 * What a client sends and how a request without a reply fails: the shapes
 * shared by {@link BedsClient} and the reconnecting client.
 *
 * @module
 */
import type { AmqpConfig, Op } from "../config/mod.ts";

/** A request body as sent on the wire. */
export interface RequestBody {
  /** The protocol version; v1 when absent. */
  v?: 1;
  template: string;
  op: Op;
  call?: string;
  key?: Record<string, unknown>;
  data?: Record<string, unknown>;
  where?: Record<string, unknown>;
  limit?: number;
  offset?: number;
  order?: string[];
  event?: { parent: string };
  deadline_ms?: number;
}

/**
 * Why a request got no reply: none came in time, no queue is bound for its
 * routing key, the connection closed, or (with confirms) RabbitMQ refused
 * the message (a nack, e.g. a queue over its length limit), or
 * `DISCONNECTED`: nothing was sent, for there was no connection (a
 * reconnecting client) or it could not take the request now (RabbitMQ
 * blocks it, or its write buffer is full); sending again later is safe.
 */
export type ClientErrorKind = "TIMEOUT" | "UNROUTABLE" | "CLOSED" | "REFUSED" | "DISCONNECTED";

/** A request that got no reply from BEDS. */
export class BedsClientError extends Error {
  /** Why there was no reply. */
  readonly kind: ClientErrorKind;
  constructor(kind: ClientErrorKind, message: string) {
    super(message);
    this.name = "BedsClientError";
    this.kind = kind;
  }
}

/** Options for {@link BedsClient.connect}. */
export interface BedsClientOptions {
  /** Where to connect (the `[amqp]` section shape). */
  amqp: AmqpConfig;
  /** Default time to wait for a reply. @default 10000 */
  timeoutMs?: number;
  /** Connection name shown by RabbitMQ. @default "beds-client" */
  name?: string;
  /**
   * Exchange requests are published to, e.g. the admin exchange for the admin role's
   * brokers. @default the config's `amqp.exchange`
   */
  exchange?: string;
  /**
   * Use publisher confirms: `send()` resolves only once RabbitMQ has the
   * message (it waits for the confirm as long as the connection lives), and
   * a request the broker refuses fails at once (`REFUSED`). @default false
   */
  confirm?: boolean;
  /**
   * How long `close()` waits for RabbitMQ to answer the channel's and the
   * connection's close before it drops the connection, and with it what is
   * still buffered: give a slow link with much to send more. @default 5000
   */
  closeTimeoutMs?: number;
  /**
   * `user_id` stamped on every request: the AMQP user this client logs in
   * as, which RabbitMQ verifies and BEDS's access control trusts. RabbitMQ
   * closes the channel if it names anyone else. `false` sends none.
   * @default the config's AMQP user (`amqp.user`, or the URL's user)
   */
  userId?: string | false;
  /**
   * Keep a number in a reply that a double would change (a JSON column's 9007199254740993, or
   * 1234567890.123456789012) as its literal, `JSON.rawJSON` of it, which `JSON.stringify` writes
   * again digit for digit: for a program that passes replies on (the HTTP gateway, `beds call`).
   * Otherwise such a number is the double `JSON.parse` makes of it. @default false
   */
  exactNumbers?: boolean;
}

/** Per-request options. */
export interface RequestOptions {
  /** Time to wait for this reply; also sent as the request's deadline. */
  timeoutMs?: number;
  /** Body bytes to send as they are instead of the JSON of the request (the gateway, tests, tools). */
  rawBody?: Uint8Array;
}

/** The longest wait a timer can hold: longer ones fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Why `timeoutMs` cannot be a reply timeout, or undefined when it can. */
export function timeoutError(timeoutMs: number): RangeError | undefined {
  if (Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS) return undefined;
  return new RangeError(`Timeout must be more than 0 and at most ${MAX_TIMEOUT_MS} ms, got ${timeoutMs}`);
}
