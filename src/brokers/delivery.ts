/**
 * What a delivery says about itself in BEDS's own headers: the attempt, the first attempt's event,
 * the routing key a retry copy carries and the requester. They are believed only on the node's own
 * copies, whose `user_id` only the node can stamp; on any other message they are the publisher's
 * words. Also whether the routing key agrees with the body, and whether a replay may run, and
 * without its deadline.
 *
 * @module
 */
import { type AmqpAnyMessage, type AmqpMessage, HEADERS } from "../amqp/mod.ts";
import { EVENT_ID_PATTERN, MAX_RETRIED_EVENT_LENGTH, type Request, routingKey } from "../protocol/mod.ts";
import { BedsError, ERROR_CODES, type ErrorCode } from "../errors.ts";
import { type AccessPolicy, replayRefusal, requesterOf } from "../dispatch/mod.ts";

/** Headers of a message that are not believed: none (one shared object, none made per delivery). */
const NO_HEADERS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Attempts the header can name: a record keeps it in 16 bits. */
const MAX_ATTEMPT = 65_535;

/** Whether `msg` is a node's own copy (a retry consumed again, a dead letter it stored). */
export function fromNode(msg: AmqpAnyMessage, nodeUser: string | undefined): boolean {
  return nodeUser === undefined || msg.properties.userId === nodeUser;
}

/** The headers to believe: the message's own on a node's copy, none on anything else. */
export function ownHeaders(
  msg: AmqpAnyMessage,
  nodeUser: string | undefined,
): Readonly<Record<string, unknown>> {
  return fromNode(msg, nodeUser) ? msg.properties.headers ?? NO_HEADERS : NO_HEADERS;
}

/** The key the request was published with (a retried copy carries it in a header). */
export function originalRoutingKey(msg: AmqpMessage, own: Readonly<Record<string, unknown>>): string {
  const header = own[HEADERS.routingKey];
  return typeof header === "string" ? header : msg.fields.routingKey;
}

/** The attempt this delivery is (1 unless a retry copy says otherwise). */
export function attemptOf(own: Readonly<Record<string, unknown>>): number {
  // A number, or digits: never coerced otherwise (a table's own valueOf or toString could throw).
  const raw = own[HEADERS.attempt];
  const n = typeof raw === "number"
    ? raw
    : typeof raw === "string" && /^\d{1,5}$/.test(raw)
    ? Number(raw)
    : 1;
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_ATTEMPT ? n : 1;
}

/** The first attempt's event id a retried copy carries, when it is well formed and short enough for its retries' ids. */
export function firstEventOf(own: Readonly<Record<string, unknown>>): string | undefined {
  const header = own[HEADERS.event];
  return typeof header === "string" && header.length <= MAX_RETRIED_EVENT_LENGTH &&
      EVENT_ID_PATTERN.test(header)
    ? header
    : undefined;
}

/**
 * Why a replayed dead letter may not run (see {@link replayRefusal}), or undefined (always, with
 * access control off). A refused replay runs as no one, and its safe copy names no one: named
 * after the replaying user, it would run with that user's grants when the nodes' user replays it.
 */
export function replayRefused(msg: AmqpMessage, access: AccessPolicy | undefined): string | undefined {
  if (!access?.enabled) return undefined;
  const headers = msg.properties.headers;
  return replayRefusal(
    headers?.[HEADERS.replayedFrom],
    msg.properties.userId,
    headers?.[HEADERS.user],
    access.nodeUser,
  );
}

/**
 * The id of the dead letter a delivery was replayed from, when its headers are believed (a replay
 * sent with the nodes' own user, and a node's retry copy of one), else undefined.
 */
export function replayedFromOf(own: Readonly<Record<string, unknown>>): string | undefined {
  const header = own[HEADERS.replayedFrom];
  return typeof header === "string" ? header : undefined;
}

/**
 * The request as a replayed dead letter runs: without its deadline. An operator asked for it to
 * run and no client waits for it, so a deadline long passed would only make the node refuse it
 * (`DEADLINE_EXCEEDED`) and keep it again, never to run; nor does it cut its retries short.
 */
export function withoutReplayedDeadline(request: Request, own: Readonly<Record<string, unknown>>): Request {
  if (request.deadline_ms === undefined || replayedFromOf(own) === undefined) return request;
  const { deadline_ms: _, ...rest } = request;
  return rest;
}

/**
 * The error a write's retry copy was stored for (the attempt before this one), as the node's copy
 * carries it; undefined on a first attempt or a copy the node did not make.
 */
export function lastAttemptError(
  own: Readonly<Record<string, unknown>>,
  attempt: number,
): BedsError | undefined {
  const code = own[HEADERS.errorCode];
  if (attempt < 2 || typeof code !== "string" || !(ERROR_CODES as readonly string[]).includes(code)) {
    return undefined;
  }
  const message = typeof own[HEADERS.errorMessage] === "string" ? own[HEADERS.errorMessage] as string : code;
  return new BedsError(
    code as ErrorCode,
    `${message} (attempt ${attempt - 1}; the deadline passed before attempt ${attempt} could run)`,
  );
}

/** The user a delivery runs as (see {@link requesterOf}). */
export function requesterOfDelivery(msg: AmqpMessage, access: AccessPolicy | undefined): string | undefined {
  return requesterOf(msg.properties.userId, msg.properties.headers?.[HEADERS.user], access?.nodeUser);
}

/** The bindings chose this broker by routing key, so the body must say the same. */
export function checkRoute(request: Request, key: string): void {
  const expected = routingKey(request.op, request.template);
  if (key !== expected) {
    throw new BedsError("BAD_REQUEST", `Routing key "${key}" does not match the request ("${expected}")`);
  }
}
