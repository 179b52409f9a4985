/**
 * Operator access to dead-letter queues: list (messages stay in the queue)
 * and purge; replay is in `dead_letter_replay.ts`. A queue that does not exist holds no
 * letters; any other failure to read one is an error, never an empty queue.
 *
 * @module
 */
import { type AmqpAnyMessage as AmqpMessage, type AmqpConnection, HEADERS } from "../amqp/mod.ts";
import { attemptOf, fromNode, ownHeaders } from "./delivery.ts";
import { type Digested, letterDigest, letterId } from "./dead_letter_ids.ts";

/** Why a node stored the letter (set by the safe copy). */
const REASON_HEADER = "x-beds-reason";

/** One dead-lettered message, as listed. */
export interface DeadLetter {
  /** The letter's own id, derived from the letter (see dead_letter_ids.ts). */
  id: string;
  /** The request's `message_id` ("" when it had none); other letters may share it. */
  messageId: string;
  queue: string;
  routingKey: string;
  attempts: number;
  errorCode: string;
  errorMessage: string;
  reason: string;
  deadAt: string;
  /** The requester's AMQP user ("" when the request had none). */
  user: string;
  /**
   * RabbitMQ had delivered the request before it failed for good (a node lost its connection or
   * stopped before acking it): it may have run then, and a replay would run it again.
   */
  redelivered: boolean;
  body: string;
}

/** A header to believe, as text ("" when absent). */
function text(own: Readonly<Record<string, unknown>>, name: string): string {
  const value = own[name];
  return value === undefined || value === null ? "" : String(value);
}

/** The first routing key of the newest `x-death` record RabbitMQ wrote, or "". */
function deathKey(msg: AmqpMessage): string {
  const deaths = msg.properties.headers?.["x-death"];
  const keys = Array.isArray(deaths)
    ? (deaths[0] as { "routing-keys"?: unknown })?.["routing-keys"]
    : undefined;
  return Array.isArray(keys) && typeof keys[0] === "string" ? keys[0] : "";
}

/**
 * A letter as listed. A dead-letter queue holds the copies nodes store there themselves, and
 * messages RabbitMQ dead-lettered itself (they carry `x-death`, e.g. past a quorum queue's delivery
 * limit). It may also hold what anyone who may write to the default exchange published straight
 * into it, with whatever headers they liked. So the BEDS headers (requester, original routing key,
 * attempt, error) are believed only on a letter stamped with the nodes' own `user_id`, by the same
 * rule a consumer applies to a retry copy. Any other letter is its publisher's own message: its
 * requester is its `user_id` (none: anonymous), its key the one `x-death` names or, failing that,
 * the key it was published with (the queue's own name says only that it came through the default
 * exchange, so it counts as none).
 */
export function describe(
  queue: string,
  msg: AmqpMessage,
  nodeUser: string | undefined,
  digest: string,
): DeadLetter {
  const ours = fromNode(msg, nodeUser);
  const own = ownHeaders(msg, nodeUser);
  const published = msg.fields.routingKey === queue ? "" : msg.fields.routingKey;
  return {
    id: letterId(digest),
    messageId: String(msg.properties.messageId ?? ""),
    queue,
    routingKey: text(own, HEADERS.routingKey) || deathKey(msg) || (ours ? "" : published),
    attempts: attemptOf(own),
    errorCode: text(own, HEADERS.errorCode),
    errorMessage: text(own, HEADERS.errorMessage),
    reason: text(own, REASON_HEADER) || "rejected",
    deadAt: text(own, HEADERS.deadAt),
    user: ours ? text(own, HEADERS.user) : String(msg.properties.userId ?? ""),
    redelivered: own[HEADERS.redelivered] === true,
    body: msg.content.toString("utf8"),
  };
}

/** Whether an AMQP error says the queue does not exist (404 NOT_FOUND), which holds no letters. */
function missingQueue(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 404;
}

/** An error reading `queue`, named after it. */
function queueError(queue: string, error: unknown): Error {
  return new Error(`Dead-letter queue "${queue}" cannot be read: ${(error as Error).message}`, {
    cause: error,
  });
}

/** What a sweep's callback says: "stop" ends the sweep (the letters not taken stay untouched). */
export type SweepStep = void | "stop";

/**
 * Takes the messages `queue` holds when the sweep begins, unacked, hands them to `fn`, then gives
 * back those not acked and closes the channel. Only those: what arrives meanwhile (a replayed
 * letter that failed again comes back under a new id) waits for the next sweep, or a replay would
 * go on for ever, running its writes again and again. They are given back with `basic.nack`
 * (requeue), not by closing the channel: from RabbitMQ 4.3 a quorum queue counts a letter closed
 * back against its delivery limit, and one nacked back not.
 * @throws when the queue cannot be read (a missing queue is read as empty).
 */
export async function sweep(
  connection: AmqpConnection,
  queue: string,
  fn: (msg: AmqpMessage, ack: () => void) => Promise<SweepStep>,
  signal?: AbortSignal,
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  // A failure of `fn` is its own (a copy RabbitMQ refused): only the queue's own are named after it.
  const read = <T>(operation: Promise<T>) =>
    operation.catch((error) => Promise.reject(queueError(queue, error)));
  // Counted as soon as a letter is in hand: the one `fn` stops at (or throws on) is given back too.
  let taken = 0;
  try {
    const { messageCount } = await read(channel.checkQueue(queue));
    while (taken < messageCount && !signal?.aborted) {
      const msg = await read(channel.get(queue, { noAck: false }));
      if (!msg) break;
      taken++;
      if (await fn(msg, () => channel.ack(msg)) === "stop") break;
    }
  } catch (error) {
    if (!missingQueue((error as Error).cause)) throw error;
  } finally {
    try {
      if (taken > 0) channel.nackAll(true);
    } catch {
      // The channel is closed already: RabbitMQ gave the letters back itself.
    }
    await channel.close().catch(() => {});
  }
}

/** The letters of the given DLQs with their digests, left in their queues. */
export async function listDigested(
  connection: AmqpConnection,
  queues: readonly string[],
  nodeUser: string | undefined,
): Promise<Array<Digested<DeadLetter>>> {
  const out: Array<Digested<DeadLetter>> = [];
  for (const queue of queues) {
    await sweep(connection, queue, (msg) => {
      const digest = letterDigest(queue, msg);
      out.push({ letter: describe(queue, msg, nodeUser, digest), digest });
      return Promise.resolve();
    });
  }
  return out;
}

/**
 * Lists the messages of the given DLQs without removing them. Missing queues are skipped.
 * @throws when a queue cannot be read (access refused, connection lost, …).
 */
export async function listDeadLetters(
  connection: AmqpConnection,
  queues: readonly string[],
  /** The nodes' AMQP user (see {@link describe}); without it, every letter's headers are believed. */
  nodeUser?: string,
): Promise<DeadLetter[]> {
  return (await listDigested(connection, queues, nodeUser)).map(({ letter }) => letter);
}

/**
 * Empties the given DLQs; returns how many messages they held. Missing queues are skipped.
 * @throws when a queue cannot be purged (access refused, …): those before it are purged already.
 */
export async function purgeDeadLetters(
  connection: AmqpConnection,
  queues: readonly string[],
): Promise<number> {
  let total = 0;
  for (const queue of queues) {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    try {
      total += (await channel.purgeQueue(queue)).messageCount;
    } catch (error) {
      if (!missingQueue(error)) {
        throw new Error(`Dead-letter queue "${queue}" cannot be purged: ${(error as Error).message}`, {
          cause: error,
        });
      }
    } finally {
      await channel.close().catch(() => {});
    }
  }
  return total;
}
