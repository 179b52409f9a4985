/**
 * Reply envelopes. One pure function per outcome; the consumer publishes
 * what they return.
 *
 * @module
 */
import { type ErrorBody, toErrorBody } from "../errors.ts";

/** Metadata every reply carries. */
export interface ReplyMeta {
  /** The request's event id. */
  event: string;
  /** Node instance that served the request. */
  node: string;
  /** Broker that served it. */
  broker: string;
  /** Milliseconds from delivery to reply. */
  ms: number;
  /** Rows returned or affected. */
  rows: number;
  /** REL fan-out: per part, its child event, time, rows and error code. */
  parts?: Record<string, unknown>;
  /** REL fan-out: errors of optional parts that yielded null. */
  errors?: unknown[];
}

/** A successful reply. */
export interface OkReply {
  ok: true;
  data: unknown;
  meta: ReplyMeta;
}

/** An error reply. */
export interface ErrorReply {
  ok: false;
  error: ErrorBody;
  meta: ReplyMeta;
}

/** Either reply. */
export type Reply = OkReply | ErrorReply;

/** Builds a success reply. */
export function okReply(data: unknown, meta: ReplyMeta): OkReply {
  return { ok: true, data, meta };
}

/** Builds an error reply from any thrown value. */
export function errorReply(error: unknown, meta: ReplyMeta): ErrorReply {
  return { ok: false, error: toErrorBody(error), meta };
}
