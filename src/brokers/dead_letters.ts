/**
 * Operator access to dead-letter queues: list (messages stay in the queue),
 * replay (back through the exchange with their original routing key, as a
 * fresh first attempt) and purge.
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

/** Why a node stored the letter (set by the safe copy). */
const REASON_HEADER = "x-beds-reason";

/** One dead-lettered message, as listed. */
export interface DeadLetter {
  id: string;
  queue: string;
  routingKey: string;
  attempts: number;
  errorCode: string;
  errorMessage: string;
  reason: string;
  deadAt: string;
  /** The requester's AMQP user ("" when the request had none). */
  user: string;
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
function describe(queue: string, msg: AmqpMessage, nodeUser: string | undefined): DeadLetter {
  const ours = fromNode(msg, nodeUser);
  const own = ownHeaders(msg, nodeUser);
  const published = msg.fields.routingKey === queue ? "" : msg.fields.routingKey;
  return {
    id: String(msg.properties.messageId ?? ""),
    queue,
    routingKey: text(own, HEADERS.routingKey) || deathKey(msg) || (ours ? "" : published),
    attempts: attemptOf(own),
    errorCode: text(own, HEADERS.errorCode),
    errorMessage: text(own, HEADERS.errorMessage),
    reason: text(own, REASON_HEADER) || "rejected",
    deadAt: text(own, HEADERS.deadAt),
    user: ours ? text(own, HEADERS.user) : String(msg.properties.userId ?? ""),
    body: msg.content.toString("utf8"),
  };
}

/**
 * Takes the messages `queue` holds when the sweep begins, unacked, hands them to `fn`, then closes
 * the channel (requeueing those not acked). Only those: what arrives meanwhile (a replayed letter
 * that failed again comes back under a new id) waits for the next sweep, or a replay would go on
 * for ever, running its writes again and again.
 */
async function sweep(
  connection: AmqpConnection,
  queue: string,
  fn: (msg: AmqpMessage, ack: () => void) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  try {
    const { messageCount } = await channel.checkQueue(queue);
    for (let taken = 0; taken < messageCount && !signal?.aborted; taken++) {
      const msg = await channel.get(queue, { noAck: false });
      if (!msg) break;
      await fn(msg, () => channel.ack(msg));
    }
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Lists the messages of the given DLQs without removing them. Missing queues are skipped. */
export async function listDeadLetters(
  connection: AmqpConnection,
  queues: readonly string[],
  /** The nodes' AMQP user (see {@link describe}); without it, every letter's headers are believed. */
  nodeUser?: string,
): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for (const queue of queues) {
    await sweep(connection, queue, (msg) => {
      out.push(describe(queue, msg, nodeUser));
      return Promise.resolve();
    }).catch(() => {});
  }
  return out;
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
  /** Replay only this message id; all when undefined. */
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
}

/**
 * Republishes dead letters to their broker's exchange with their original routing key and acks
 * each only after RabbitMQ confirmed the new copy. Copies are mandatory: one that no queue takes is
 * returned (RabbitMQ would confirm it all the same) and its letter stays where it is.
 */
export async function replayDeadLetters(
  connection: AmqpConnection,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const publisher = await connection.createConfirmChannel();
  publisher.on("error", () => {});
  // One letter is published at a time, and a return comes before its confirm.
  let returned = false;
  publisher.on("return", () => returned = true);
  const result: ReplayResult = { replayed: [], kept: [] };
  // The ids of the copies this run published: one that failed again and is back already is left
  // for the next run, so that each letter is replayed once per run.
  const published = new Set<string>();
  try {
    for (const { queue, exchange, bindings } of options.queues) {
      if (options.signal?.aborted) break;
      await sweep(connection, queue, async (msg, ack) => {
        const letter = describe(queue, msg, options.userId);
        if (published.has(letter.id)) return;
        if (options.id !== undefined && letter.id !== options.id) return;
        if (!letter.routingKey) {
          result.kept.push({ ...letter, why: "it names no routing key" });
          return;
        }
        if (!bindings.some((binding) => topicMatches(binding, letter.routingKey))) {
          result.kept.push({
            ...letter,
            why: `its routing key "${letter.routingKey}" is not one this broker binds`,
          });
          return;
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
          return;
        }
        ack();
        result.replayed.push(letter);
      }, options.signal).catch((error) => {
        if (!String((error as Error).message).includes("NOT_FOUND")) throw error;
      });
    }
  } finally {
    await publisher.close().catch(() => {});
  }
  return result;
}

/** Empties the given DLQs; returns how many messages each held. */
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
    } catch {
      // a missing queue holds nothing
    } finally {
      await channel.close().catch(() => {});
    }
  }
  return total;
}
