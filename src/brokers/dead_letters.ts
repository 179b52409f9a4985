/**
 * Operator access to dead-letter queues: list (messages stay in the queue),
 * replay (back through the exchange with their original routing key, as a
 * fresh first attempt) and purge. A queue that does not exist holds no
 * letters; any other failure to read one is an error, never an empty queue.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type AmqpAnyMessage as AmqpMessage,
  type AmqpConnection,
  HEADERS,
  topicMatches,
} from "../amqp/mod.ts";
import { attemptOf, fromNode, ownHeaders } from "./delivery.ts";
import { type Digested, letterDigest, letterId, selectLetter } from "./dead_letter_ids.ts";

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
function describe(queue: string, msg: AmqpMessage, nodeUser: string | undefined, digest: string): DeadLetter {
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
type SweepStep = void | "stop";

/**
 * Takes the messages `queue` holds when the sweep begins, unacked, hands them to `fn`, then gives
 * back those not acked and closes the channel. Only those: what arrives meanwhile (a replayed
 * letter that failed again comes back under a new id) waits for the next sweep, or a replay would
 * go on for ever, running its writes again and again. They are given back with `basic.nack`
 * (requeue), not by closing the channel: from RabbitMQ 4.3 a quorum queue counts a letter closed
 * back against its delivery limit, and one nacked back not.
 * @throws when the queue cannot be read (a missing queue is read as empty).
 */
async function sweep(
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
async function listDigested(
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

/** A dead-letter queue, the exchange its broker's requests come through, and the keys it binds there. */
export interface DeadLetterSource {
  queue: string;
  exchange: string;
  /**
   * The broker's binding keys: a letter goes back only with a routing key one of them routes. Its
   * key may come from headers its publisher wrote, and a key of another broker, or an admin
   * command's, would run something that never failed in this queue.
   */
  bindings: readonly string[];
}

/** Options for {@link replayDeadLetters}. */
export interface ReplayOptions {
  /** Each letter goes back through its own queue's exchange (a broker may listen on the admin one). */
  queues: readonly DeadLetterSource[];
  /**
   * Replay only the letter of this id, or of this `message_id`; all when undefined. When it names
   * letters that differ, none is replayed (see {@link ReplayResult.ambiguous}).
   */
  id?: string;
  /** `reply_to` for the replayed requests (to see their outcome), if any. */
  replyTo?: string;
  /**
   * `user_id` of the replayed copies: the replaying connection's AMQP user.
   * When that is the node's own user, the copy runs as its original
   * requester again (kept in a header); otherwise as the replaying user.
   * It is also the user whose letters' BEDS headers are believed (see {@link describe}).
   */
  userId?: string;
  /** Stops the run before the next letter (the one in hand is finished: replayed or kept). */
  signal?: AbortSignal;
}

/** What {@link replayDeadLetters} did. */
export interface ReplayResult {
  /** Republished (and confirmed) and removed from their DLQ. */
  replayed: DeadLetter[];
  /** Left in their DLQ: no routing key to send them with, or no queue is bound for it now. */
  kept: Array<DeadLetter & { why: string }>;
  /** The letters an `id` matched when it named several that differ: none of them was replayed. */
  ambiguous: DeadLetter[];
}

/**
 * Republishes dead letters to their broker's exchange with their original routing key and acks
 * each only after RabbitMQ confirmed the new copy. Copies are mandatory: one that no queue takes is
 * returned (RabbitMQ would confirm it all the same) and its letter stays where it is. With an `id`,
 * the letters are listed first and at most one is replayed: the one it names.
 */
export async function replayDeadLetters(
  connection: AmqpConnection,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], kept: [], ambiguous: [] };
  let sources = options.queues;
  // The digest of the one letter to replay, when an id names it.
  let only: string | undefined;
  if (options.id !== undefined) {
    const listed = await listDigested(connection, sources.map((s) => s.queue), options.userId);
    const selection = selectLetter(listed, options.id);
    if (selection.kind === "none") return result;
    if (selection.kind === "ambiguous") {
      result.ambiguous = selection.matches;
      return result;
    }
    only = selection.digest;
    sources = sources.filter((s) => s.queue === selection.letter.queue);
  }
  const publisher = await connection.createConfirmChannel();
  publisher.on("error", () => {});
  // One letter is published at a time, and a return comes before its confirm.
  let returned = false;
  publisher.on("return", () => returned = true);
  // The message ids of the copies this run published: one that failed again and is back already is
  // left for the next run, so that each letter is replayed once per run.
  const published = new Set<string>();
  try {
    for (const { queue, exchange, bindings } of sources) {
      if (options.signal?.aborted) break;
      await sweep(connection, queue, async (msg, ack): Promise<SweepStep> => {
        const digest = letterDigest(queue, msg);
        if (only !== undefined && digest !== only) return;
        const letter = describe(queue, msg, options.userId, digest);
        if (published.has(letter.messageId)) return;
        // The letter an id named is the last one looked at, whatever becomes of it.
        const done = only === undefined ? undefined : "stop";
        if (!letter.routingKey) {
          result.kept.push({ ...letter, why: "it names no routing key" });
          return done;
        }
        if (!bindings.some((binding) => topicMatches(binding, letter.routingKey))) {
          result.kept.push({
            ...letter,
            why: `its routing key "${letter.routingKey}" is not one this broker binds`,
          });
          return done;
        }
        // Always named, "" for a request that had no user: the copy goes out with the replaying
        // user's user_id, and with no header it would run as that user.
        const headers: Record<string, unknown> = {
          [HEADERS.replayedFrom]: letter.id,
          [HEADERS.user]: letter.user,
        };
        const messageId = crypto.randomUUID();
        published.add(messageId);
        returned = false;
        await new Promise<void>((resolve, reject) => {
          publisher.publish(
            exchange,
            letter.routingKey,
            Buffer.from(msg.content),
            {
              contentType: msg.properties.contentType,
              correlationId: letter.id,
              messageId,
              replyTo: options.replyTo,
              persistent: true,
              mandatory: true,
              userId: options.userId,
              headers,
            },
            (error: unknown) =>
              error ? reject(new Error("RabbitMQ refused the replayed message")) : resolve(),
          );
        });
        if (returned) {
          result.kept.push({
            ...letter,
            why: `no queue is bound for "${letter.routingKey}" on "${exchange}"`,
          });
          return done;
        }
        ack();
        result.replayed.push(letter);
        return done;
      }, options.signal);
    }
  } finally {
    await publisher.close().catch(() => {});
  }
  return result;
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
