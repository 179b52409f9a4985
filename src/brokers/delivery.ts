/**
 * What a delivery says about itself in BEDS's own headers: the attempt, the first attempt's event
 * and the routing key a retry copy carries. They are believed only on the node's own copies, whose
 * `user_id` only the node can stamp; on any other message they are the publisher's words.
 *
 * @module
 */
import { type AmqpAnyMessage, type AmqpMessage, HEADERS } from "../amqp/mod.ts";
import { EVENT_ID_PATTERN, MAX_RETRIED_EVENT_LENGTH } from "../protocol/mod.ts";
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
 * The user a delivery runs as (see {@link requesterOf}), or, for a replayed dead letter that may not
 * run (see {@link replayRefusal}), why not. A refused replay runs as no one, and its safe copy names
 * no one: named after the replaying user, it would run with that user's grants when the nodes' user
 * replays it again.
 */
export function runsAs(
  msg: AmqpMessage,
  access: AccessPolicy | undefined,
): { user: string | undefined; refused?: string } {
  const headers = msg.properties.headers;
  const userId = msg.properties.userId as string | undefined;
  if (access?.enabled) {
    const refused = replayRefusal(
      headers?.[HEADERS.replayedFrom],
      userId,
      headers?.[HEADERS.user],
      access.nodeUser,
    );
    if (refused) return { user: undefined, refused };
  }
  return { user: requesterOf(userId, headers?.[HEADERS.user], access?.nodeUser) };
}
