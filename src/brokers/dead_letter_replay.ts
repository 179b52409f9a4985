/**
 * Replays dead letters: back through their broker's exchange with their original routing key, as a
 * fresh first attempt, each acked only once RabbitMQ confirmed its copy.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type AmqpConnection, HEADERS, topicMatches } from "../amqp/mod.ts";
import { letterDigest, selectLetter } from "./dead_letter_ids.ts";
import { ownHeaders } from "./delivery.ts";
import { type DeadLetter, describe, listDigested, sweep, type SweepStep } from "./dead_letters.ts";

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
  /**
   * Left in their DLQ: no routing key to send them with, no queue is bound for it now, or only the
   * start of the body was kept (it was too large).
   */
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
        const cut = ownHeaders(msg, options.userId)[HEADERS.bodySize];
        if (typeof cut === "number" && cut > msg.content.length) {
          // Only the start of a body too large was kept: it cannot run, only fail again.
          result.kept.push({
            ...letter,
            why: `its body was kept cut to its first ${msg.content.length} of ${cut} bytes`,
          });
          return done;
        }
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
