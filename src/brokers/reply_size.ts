/**
 * A reply as it is sent: its bytes, or in its place a TOO_LARGE error's when
 * they pass `[limits] max_reply_bytes`. RabbitMQ refuses a message past its
 * max_message_size by closing the channel, which gives the delivery, and
 * every other one unacked on it, back to the queue: each would run again (a
 * write too) and be refused again, for ever.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Op } from "../config/mod.ts";
import { BedsError } from "../errors.ts";
import { errorReply, type Reply, type Request } from "../protocol/mod.ts";
import type { Logger } from "../logging/mod.ts";

/** The reply to send and its bytes; `size` is set when the reply itself was too large and replaced. */
export interface SizedReply {
  reply: Reply;
  bytes: Buffer;
  size?: number;
}

/** V8's longest string: a reply whose JSON would be longer cannot be written at all. */
const MAX_STRING = 2 ** 29 - 24;

/** `reply` encoded, within `limit` bytes; undefined when it cannot be encoded at all. */
export function sizedReply(reply: Reply, op: Op | undefined, limit: number): SizedReply | undefined {
  let json: string;
  try {
    json = JSON.stringify(reply);
  } catch (error) {
    // Longer than a string can be (RangeError): too large, its size unknown but past V8's limit.
    if (error instanceof RangeError) return tooLargeReply(reply, op, MAX_STRING, limit, true);
    return undefined;
  }
  // UTF-8 takes at least one byte per UTF-16 unit: a longer string is over the limit without being
  // copied into a buffer to be measured.
  const bytes = json.length <= limit ? Buffer.from(json) : undefined;
  if (bytes && bytes.length <= limit) return { reply, bytes };
  return tooLargeReply(reply, op, bytes?.length ?? Buffer.byteLength(json), limit, false);
}

/** The TOO_LARGE reply sent instead of `reply`; `atLeast` when `size` is a lower bound. */
function tooLargeReply(reply: Reply, op: Op | undefined, size: number, limit: number, atLeast: boolean) {
  const shown = atLeast ? `over ${size}` : `${size}`;
  const tooLarge = errorReply(
    new BedsError("TOO_LARGE", tooLargeMessage(reply.ok, op, shown, limit), { details: { limit, size } }),
    { ...reply.meta, rows: 0 },
  );
  return { reply: tooLarge, bytes: Buffer.from(JSON.stringify(tooLarge)), size };
}

/** What the client is told: whether the operation ran, and what to do. */
function tooLargeMessage(ok: boolean, op: Op | undefined, size: string, limit: number): string {
  const tooLarge = `(${size} bytes) is too large to send: the node's reply limit is ${limit} bytes`;
  if (!ok) return `The error reply ${tooLarge}`;
  if (op === "read") return `The result ${tooLarge}; read fewer rows`;
  return `The ${op} ran, but its result ${tooLarge}`;
}

/**
 * `reply` as a consumer sends it ({@link sizedReply}), logging a reply that cannot be encoded or
 * that is replaced by TOO_LARGE.
 */
export function encodeReply(
  reply: Reply,
  request: Request | undefined,
  event: string,
  ctx: { broker: string; logger: Logger; maxReplyBytes: number },
): SizedReply | undefined {
  const { broker, logger, maxReplyBytes } = ctx;
  const sized = sizedReply(reply, request?.op, maxReplyBytes);
  if (sized === undefined) {
    logger.warn({ broker, event }, "reply not sent: it cannot be encoded");
  } else if (sized.size !== undefined) {
    logger.warn(
      { broker, event, template: request?.template, op: request?.op, size: sized.size, limit: maxReplyBytes },
      "reply too large to send; TOO_LARGE sent instead",
    );
  }
  return sized;
}
