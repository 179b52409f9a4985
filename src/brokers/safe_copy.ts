/**
 * The safe copy of a delivery that will not be answered now: a retry goes to
 * its delay tier, a dead letter to the dead-letter queue, each published with
 * confirms before the original is acked. The copy carries what a replay or a
 * later attempt needs (attempt, error, first event, original routing key and
 * queue, the requester).
 *
 * @module
 */
import {
  type AmqpMessage,
  amqpTimestamp,
  bodyCutFrom,
  HEADERS,
  shortString,
  type SideChannel,
} from "../amqp/mod.ts";
import type { ErrorCode } from "../errors.ts";
import type { Disposition } from "./retry_policy.ts";
import { originalRoutingKey, ownHeaders, replayedFromOf } from "./delivery.ts";
import { clip, wellFormed } from "../logstore/text.ts";

/**
 * An error message as a header: bounded, as the record keeps it. It can repeat what a client sent
 * (an unknown key of 60 KB), and amqplib encodes a header table into 64 KiB at most: past that
 * every copy would fail, and the delivery never be settled.
 */
function headerText(message: string | undefined): string | undefined {
  return clip(wellFormed(message)) ?? undefined;
}

/** Where a broker's retries and dead letters go. */
export interface RetryRoute {
  retryQueues: readonly string[];
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  deadLetterQueue: string;
}

/** What the consumer knows of the delivery when it decides. */
export interface CopyInput {
  msg: AmqpMessage;
  disposition: Disposition;
  attempt: number;
  code?: ErrorCode;
  message?: string;
  /** This delivery's event id. */
  event: string;
  /** The first attempt's event id, when this delivery is a retried copy. */
  rootEvent?: string;
  /** The requester the delivery runs as. */
  user?: string;
}

/** The consumer's side of the copy. */
export interface CopyTarget {
  side: SideChannel;
  route: RetryRoute;
  /** The work queue the delivery came from. */
  queue: string;
  /** The node's own AMQP user: only it may stamp `user_id` on the copy. */
  nodeUser?: string;
}

/**
 * Stores the copy a retry or a dead letter needs and resolves once RabbitMQ
 * confirmed it; a reply needs none.
 * @throws when the copy was not confirmed: the delivery must then go back to its queue.
 */
export async function storeSafeCopy(input: CopyInput, target: CopyTarget): Promise<void> {
  const { disposition, attempt, code, message, event, rootEvent } = input;
  const own = ownHeaders(input.msg, target.nodeUser);
  // Delivered before, by RabbitMQ, at this attempt or an earlier one: it may have run then.
  const redelivered = input.msg.fields.redelivered || own[HEADERS.redelivered] === true
    ? { [HEADERS.redelivered]: true }
    : {};
  if (disposition.action === "retry") {
    // A replayed letter's retries run as a replay too: without its deadline (see delivery.ts).
    const replayedFrom = shortString(replayedFromOf(own));
    await publishCopy(input, target, target.route.retryQueues[disposition.tier]!, {
      [HEADERS.attempt]: attempt + 1,
      [HEADERS.errorCode]: code,
      [HEADERS.errorMessage]: headerText(message),
      [HEADERS.event]: rootEvent ?? event,
      ...(replayedFrom === undefined ? {} : { [HEADERS.replayedFrom]: replayedFrom }),
      ...redelivered,
    });
  } else if (disposition.action === "dead_letter") {
    await publishCopy(input, target, target.route.deadLetterQueue, {
      [HEADERS.attempt]: attempt,
      [HEADERS.errorCode]: code,
      [HEADERS.errorMessage]: headerText(message),
      [HEADERS.event]: event,
      [HEADERS.deadAt]: new Date().toISOString(),
      "x-beds-reason": disposition.reason,
      ...redelivered,
    });
  }
}

/** First and longest wait before a copy that was not stored is tried again. */
const COPY_RETRY_MS = 1000;
const COPY_RETRY_MAX_MS = 30_000;

/** What {@link storeSafeCopyUntilStored} needs besides the copy. */
export interface CopyRetry {
  /** Aborted when the delivery's channel closes: RabbitMQ then gives the delivery back itself. */
  signal: AbortSignal;
  /** Declares the role's queues again (a copy no queue took: its queue was deleted). */
  redeclare?: () => Promise<void>;
  onFailure(reason: string, retryMs: number): void;
  onRedeclareFailure(reason: string): void;
}

/**
 * Stores the copy, trying again at doubling intervals until RabbitMQ confirms it (true) or the
 * channel closes (false). The delivery stays unacked meanwhile: given back to its queue it would
 * run the request again, a write included, outside the attempts counted, and on a quorum queue
 * each return spends one of its deliveries, past which RabbitMQ dead-letters it itself. A copy no
 * queue took has the role's queues declared again first.
 */
export async function storeSafeCopyUntilStored(
  input: CopyInput,
  target: CopyTarget,
  retry: CopyRetry,
): Promise<boolean> {
  for (let wait = COPY_RETRY_MS;; wait = Math.min(wait * 2, COPY_RETRY_MAX_MS)) {
    try {
      await storeSafeCopy(input, target);
      return true;
    } catch (error) {
      const reason = (error as Error).message;
      retry.onFailure(reason, wait);
      await pause(wait, retry.signal);
      if (retry.signal.aborted) return false;
      if (/returned unroutable/.test(reason)) {
        await retry.redeclare?.().catch((e) => retry.onRedeclareFailure((e as Error).message));
      }
    }
  }
}

/** Waits `ms`, or until `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function publishCopy(input: CopyInput, target: CopyTarget, queue: string, headers: Record<string, unknown>) {
  const { msg } = input;
  const p = msg.properties;
  // A body cut short as it arrived is kept so: its start, and the size it was published with.
  const publishedSize = bodyCutFrom(p.headers);
  // Only what a retry or a replay reads is kept: none of the publisher's own headers (an oversized
  // table would make every copy fail to encode, and the delivery come back for ever), and no
  // property too long to send again.
  return target.side.publish(queue, msg.content, {
    contentType: shortString(p.contentType),
    correlationId: shortString(p.correlationId),
    replyTo: shortString(p.replyTo),
    messageId: shortString(p.messageId) ?? crypto.randomUUID(),
    timestamp: amqpTimestamp(p.timestamp),
    // Only the node can stamp its own user_id, which makes the requester header trustworthy.
    userId: target.nodeUser,
    headers: {
      // "" names an anonymous requester: a replay with the node's credentials must not run it as the node.
      [HEADERS.user]: input.user ?? "",
      [HEADERS.routingKey]: shortString(originalRoutingKey(msg, ownHeaders(msg, target.nodeUser))) ??
        msg.fields.routingKey,
      [HEADERS.queue]: target.queue,
      ...(publishedSize === undefined ? {} : { [HEADERS.bodySize]: publishedSize }),
      ...headers,
    },
  });
}
