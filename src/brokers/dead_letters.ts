/**
 * Operator access to dead-letter queues: list (messages stay in the queue),
 * replay (back through the exchange with their original routing key, as a
 * fresh first attempt) and purge.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type AmqpAnyMessage as AmqpMessage, type AmqpConnection, HEADERS } from "../amqp/mod.ts";

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

function header(msg: AmqpMessage, name: string): string {
  const value = msg.properties.headers?.[name];
  return value === undefined || value === null ? "" : String(value);
}

/**
 * The key the request was first published with: BEDS's own header on the copies it stores, else
 * (a letter RabbitMQ dead-lettered itself, e.g. past a quorum queue's delivery limit) the first
 * routing key its `x-death` record names.
 */
function originalKey(msg: AmqpMessage): string {
  return header(msg, HEADERS.routingKey) || deathKey(msg);
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
 * A letter as listed. A dead-letter queue holds the copies nodes store there themselves (clients
 * may publish only to the exchanges), whose BEDS headers are the node's, and messages RabbitMQ
 * dead-lettered itself (they carry `x-death`). Those are a node's own copy again when their
 * `user_id` is the node's (a retry copy past a quorum queue's delivery limit; letters stored before
 * copies dropped `x-death`); otherwise they are the publisher's own message: its requester is its
 * `user_id`, its key the one `x-death` names, and its BEDS headers, if any, the publisher's words.
 */
function describe(queue: string, msg: AmqpMessage, nodeUser: string | undefined): DeadLetter {
  const ours = msg.properties.headers?.["x-death"] === undefined ||
    (nodeUser !== undefined && msg.properties.userId === nodeUser);
  return {
    id: String(msg.properties.messageId ?? ""),
    queue,
    routingKey: ours ? originalKey(msg) : deathKey(msg),
    attempts: Number(header(msg, HEADERS.attempt) || 1),
    errorCode: header(msg, HEADERS.errorCode),
    errorMessage: header(msg, HEADERS.errorMessage),
    reason: header(msg, "x-beds-reason") || "rejected",
    deadAt: header(msg, HEADERS.deadAt),
    user: ours ? header(msg, HEADERS.user) : String(msg.properties.userId ?? ""),
    body: msg.content.toString("utf8"),
  };
}

/** Takes every message of `queue` unacked, hands them to `fn`, then closes the channel (requeueing the rest). */
async function sweep(
  connection: AmqpConnection,
  queue: string,
  fn: (msg: AmqpMessage, ack: () => void) => Promise<void>,
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  try {
    await channel.checkQueue(queue);
    const seen = new Set<string>();
    for (;;) {
      const msg = await channel.get(queue, { noAck: false });
      if (!msg) break;
      const tag = String(msg.properties.messageId ?? msg.fields.deliveryTag);
      if (msg.fields.redelivered && seen.has(tag)) break;
      seen.add(tag);
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
  /** The nodes' AMQP user (see {@link describe}). */
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

/** A dead-letter queue and the exchange its broker's requests come through. */
export interface DeadLetterSource {
  queue: string;
  exchange: string;
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
   */
  userId?: string;
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
  try {
    for (const { queue, exchange } of options.queues) {
      await sweep(connection, queue, async (msg, ack) => {
        const letter = describe(queue, msg, options.userId);
        if (options.id !== undefined && letter.id !== options.id) return;
        if (!letter.routingKey) {
          result.kept.push({ ...letter, why: "it names no routing key" });
          return;
        }
        // Always named, "" for a request that had no user: the copy goes out with the replaying
        // user's user_id, and with no header it would run as that user.
        const headers: Record<string, unknown> = {
          "x-beds-replayed-from": letter.id,
          [HEADERS.user]: letter.user,
        };
        returned = false;
        await new Promise<void>((resolve, reject) => {
          publisher.publish(
            exchange,
            letter.routingKey,
            Buffer.from(msg.content),
            {
              contentType: msg.properties.contentType,
              correlationId: letter.id,
              messageId: crypto.randomUUID(),
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
      }).catch((error) => {
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
