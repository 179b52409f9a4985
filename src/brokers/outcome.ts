/**
 * What one delivery comes to: its request decoded, checked and dispatched, and the reply it earns
 * (an error reply for anything that went wrong, bad input included). Nothing here sends, stores
 * or acks: the consumer decides that from the outcome.
 *
 * @module
 */
import { type AmqpMessage, bodyCutFrom } from "../amqp/mod.ts";
import type { Op } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import {
  decodeRequest,
  errorReply,
  type EventIds,
  okReply,
  type Reply,
  type Request,
} from "../protocol/mod.ts";
import { dispatch, type DispatchDeps, FanOutError, type PartRecord } from "../dispatch/mod.ts";
import { BedsError, type ErrorCode } from "../errors.ts";
import {
  attemptOf,
  checkRoute,
  firstEventOf,
  lastAttemptError,
  originalRoutingKey,
  ownHeaders,
  replayRefused,
  requesterOfDelivery,
  withoutReplayedDeadline,
} from "./delivery.ts";

/** What a delivery's outcome is computed with. */
export interface OutcomeContext {
  node: string;
  broker: string;
  ops: ReadonlySet<Op>;
  /** The broker is bound on the admin exchange: its templates are granted by name only. */
  adminExchange?: boolean;
  maxBodyBytes: number;
  deps: DispatchDeps;
  eventIds: EventIds;
  logger: Logger;
}

/** One delivery's outcome. */
export interface Outcome {
  /** This attempt's event id (a retried copy's is a child of the first attempt's). */
  event: string;
  /** The first attempt's event id, for a retried copy. */
  firstEvent: string | undefined;
  attempt: number;
  /** Undefined when the body was not a valid request. */
  request: Request | undefined;
  reply: Reply;
  /** The error's code, when the reply is an error. */
  code: ErrorCode | undefined;
  /** A fan-out's parts, recorded whether it succeeded or not. */
  parts: PartRecord[] | undefined;
  /**
   * A failed fan-out's parts once every part that ran has ended: it is answered as soon as a
   * required part fails, while others may still run (`FanOutError.settled`).
   */
  partsSettled?: Promise<PartRecord[]>;
  /** Who asked, where access rules name users. */
  user: string | undefined;
}

/** Decodes and runs `msg`; never throws: a failure is the outcome's error reply. */
export async function runDelivery(msg: AmqpMessage, started: number, ctx: OutcomeContext): Promise<Outcome> {
  const { deps, eventIds } = ctx;
  const own = ownHeaders(msg, deps.access?.nodeUser);
  const attempt = attemptOf(own);
  const firstEvent = firstEventOf(own);
  const refused = replayRefused(msg, deps.access);
  const user = refused === undefined ? requesterOfDelivery(msg, deps.access) : undefined;
  let event = "";
  let request: Request | undefined;
  try {
    request = withoutReplayedDeadline(decode(msg, ctx.maxBodyBytes), own);
    event = firstEvent !== undefined
      ? eventIds.retry(firstEvent, attempt)
      : eventIds.next(request.event?.parent);
    checkRoute(request, originalRoutingKey(msg, own));
    if (refused) throw new BedsError("FORBIDDEN", refused);
    const result = await dispatch(request, ctx.ops, deps, { event, user, byName: ctx.adminExchange });
    const reply = okReply(result.data, { ...replyMeta(ctx, event, started, result.rows), ...result.meta });
    return { event, firstEvent, attempt, request, reply, code: undefined, parts: result.parts, user };
  } catch (error) {
    if (!event) event = eventIds.next();
    let reply = errorReply(error, replyMeta(ctx, event, started, 0));
    const code = reply.error.code;
    // A retry whose deadline passed while it waited: the write ran before and failed, so the client
    // is told that failure (as when BEDS gives up before a retry), not that nothing ran. The code
    // stays DEADLINE_EXCEEDED for the decision: the copy is kept as a dead letter.
    const last = code === "DEADLINE_EXCEEDED" ? lastAttemptError(own, attempt) : undefined;
    if (last) reply = errorReply(last, reply.meta);
    if (!(error instanceof BedsError) || code === "INTERNAL" || code === "DB_ERROR") {
      ctx.logger.error({ broker: ctx.broker, event, err: error }, "request failed");
    }
    // The parts of a fan-out that failed ran all the same: they are recorded and counted.
    const fanOut = error instanceof FanOutError ? error : undefined;
    const parts = fanOut?.parts;
    return { event, firstEvent, attempt, request, reply, code, parts, partsSettled: fanOut?.settled, user };
  }
}

/**
 * The request in `msg`'s body; a body the frame guard cut short is judged on the size it was
 * published with (TOO_LARGE, with that size), as the whole body would have been.
 */
function decode(msg: AmqpMessage, maxBodyBytes: number): Request {
  const publishedSize = bodyCutFrom(msg.properties.headers);
  return publishedSize === undefined
    ? decodeRequest(msg.content, maxBodyBytes)
    : decodeRequest(msg.content, maxBodyBytes, { publishedSize });
}

function replyMeta(ctx: OutcomeContext, event: string, started: number, rows: number) {
  return {
    event,
    node: ctx.node,
    broker: ctx.broker,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    rows,
  };
}
