/**
 * Operator access to dead-letter queues: list (messages stay in the queue)
 * and purge; replay is in `dead_letter_replay.ts`, and the hold and sweep both
 * read a queue through in `dead_letter_sweep.ts`. A queue that does not exist
 * holds no letters; any other failure to read one is an error, never an empty queue.
 *
 * @module
 */
import { type AmqpAnyMessage as AmqpMessage, type AmqpConnection, HEADERS } from "../amqp/mod.ts";
import { attemptOf, fromNode, ownHeaders } from "./delivery.ts";
import { type Digested, letterDigest, letterId } from "./dead_letter_ids.ts";
import { hold, missingQueue, QueueBusy, sweep } from "./dead_letter_sweep.ts";

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
  for (const queue of queues) total += await purgeOne(connection, queue);
  return total;
}

/**
 * Purges one DLQ, held (see {@link hold}): a letter another `beds dlq` held would come back after
 * the purge. The purge takes the ready letters; the one the hold's consumer was handed is acked.
 */
async function purgeOne(connection: AmqpConnection, queue: string): Promise<number> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  try {
    const { handed, release } = await hold(channel, queue);
    const { messageCount } = await channel.purgeQueue(queue);
    // Once the consumer is cancelled, it has everything it will be handed.
    await release();
    if (handed.length) channel.ackAll();
    return messageCount + handed.length;
  } catch (error) {
    if (error instanceof QueueBusy) throw error;
    if (missingQueue(error)) return 0;
    throw new Error(`Dead-letter queue "${queue}" cannot be purged: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await channel.close().catch(() => {});
  }
}
