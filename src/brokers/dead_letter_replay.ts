/**
 * Replays dead letters: back through their broker's exchange with their original routing key, as a
 * fresh first attempt, each copy published and its letter acked in one AMQP transaction.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type AmqpAnyMessage,
  type AmqpConnection,
  commitTx,
  HEADERS,
  type PublishOptions,
  topicMatches,
} from "../amqp/mod.ts";
import { letterDigest, selectLetter } from "./dead_letter_ids.ts";
import { ownHeaders } from "./delivery.ts";
import { type DeadLetter, describe, listDigested } from "./dead_letters.ts";
import { sweep, type SweepStep, type Taken } from "./dead_letter_sweep.ts";

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
  /** Republished and removed from their DLQ (committed together). */
  replayed: DeadLetter[];
  /**
   * Left in their DLQ: no routing key to send them with, no queue is bound for it now, or only the
   * start of the body was kept (it was too large).
   */
  kept: Array<DeadLetter & { why: string }>;
  /** The letters an `id` matched when it named several that differ: none of them was replayed. */
  ambiguous: DeadLetter[];
}

/**
 * Republishes dead letters to their broker's exchange with their original routing key, each copy
 * in one transaction with its letter's ack (see {@link replayOne}). Copies are mandatory: one that
 * no queue takes is returned and its letter is kept. With an `id`, the letters are listed first and
 * at most one is replayed: the one it names. Each queue is held while it is read (see
 * {@link sweep}): a DLQ another `beds dlq` is reading is an error, never a queue passed over.
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
  // The message ids of the copies this run published: one that failed again and is back already is
  // left for the next run, so that each letter is replayed once per run.
  const published = new Set<string>();
  for (const { queue, exchange, bindings } of sources) {
    if (options.signal?.aborted) break;
    await sweep(connection, queue, async (msg, taken): Promise<SweepStep> => {
      const digest = letterDigest(queue, msg);
      if (only !== undefined && digest !== only) return;
      const letter = describe(queue, msg, options.userId, digest);
      if (published.has(letter.messageId)) return;
      // The letter an id named is the last one looked at, whatever becomes of it.
      const done = only === undefined ? undefined : "stop";
      const why = unreplayable(letter, msg, options.userId, bindings);
      if (why) {
        result.kept.push({ ...letter, why });
        return done;
      }
      const messageId = crypto.randomUUID();
      published.add(messageId);
      if (await replayOne(taken, queue, msg, exchange, letter, messageId, options)) {
        result.replayed.push(letter);
      } else {
        result.kept.push({ ...letter, why: `no queue is bound for "${letter.routingKey}" on "${exchange}"` });
      }
      return done;
    }, { signal: options.signal, transactional: true });
  }
  return result;
}

/** Why a letter cannot go back (it is kept), or undefined. */
function unreplayable(
  letter: DeadLetter,
  msg: AmqpAnyMessage,
  userId: string | undefined,
  bindings: readonly string[],
): string | undefined {
  const cut = ownHeaders(msg, userId)[HEADERS.bodySize];
  // Only the start of a body too large was kept: it cannot run, only fail again.
  if (typeof cut === "number" && cut > msg.content.length) {
    return `its body was kept cut to its first ${msg.content.length} of ${cut} bytes`;
  }
  if (!letter.routingKey) return "it names no routing key";
  if (!bindings.some((binding) => topicMatches(binding, letter.routingKey))) {
    return `its routing key "${letter.routingKey}" is not one this broker binds`;
  }
  return undefined;
}

/**
 * Publishes the letter's copy and acks the letter in one transaction on the channel the letter was
 * taken on: both take effect at the commit, or, if the run is stopped or its connection lost
 * before, neither (the letter goes back to its queue). Returns whether a queue took the copy. The
 * copy is mandatory, and one no queue took comes back before the commit-ok, its letter's ack
 * committed all the same: that letter is put back into its queue as it was, in a second
 * transaction.
 * @throws when the channel closes before a commit is confirmed (the transaction took effect whole,
 * or not at all).
 */
async function replayOne(
  { channel, ack }: Taken,
  queue: string,
  msg: AmqpAnyMessage,
  exchange: string,
  letter: DeadLetter,
  messageId: string,
  options: ReplayOptions,
): Promise<boolean> {
  let returned = false;
  const onReturn = () => returned = true;
  channel.on("return", onReturn);
  try {
    channel.publish(exchange, letter.routingKey, Buffer.from(msg.content), {
      contentType: msg.properties.contentType,
      correlationId: letter.id,
      messageId,
      replyTo: options.replyTo,
      persistent: true,
      mandatory: true,
      userId: options.userId,
      // Always named, "" for a request that had no user: the copy goes out with the replaying
      // user's user_id, and with no header it would run as that user.
      headers: { [HEADERS.replayedFrom]: letter.id, [HEADERS.user]: letter.user },
    });
    ack();
    await commitTx(channel).catch((error: Error) => {
      throw new Error(
        `The replay of ${letter.id} was cut off before its commit was confirmed (either its copy went ` +
          `out and the letter is gone, or neither): ${error.message}`,
      );
    });
  } finally {
    channel.off("return", onReturn);
  }
  if (!returned) return true;
  channel.publish("", queue, Buffer.from(msg.content), asPublished(msg, options.userId));
  await commitTx(channel).catch((error: Error) => {
    throw new Error(
      `No queue took the copy of ${letter.id}, and its letter could not be put back: ${error.message}`,
    );
  });
  return false;
}

/**
 * The properties to publish a letter back with: its own, but a `user_id` of another user, which
 * RabbitMQ lets only that user write (the letter then has none).
 */
function asPublished(msg: AmqpAnyMessage, userId: string | undefined): PublishOptions {
  const { userId: own, ...properties } = msg.properties;
  return { ...properties, userId: own === userId ? own : undefined };
}
