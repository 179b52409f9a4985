/**
 * The events a node reports: one tagged union read alike by the log store,
 * metrics and logs. Emitting never blocks and never throws.
 *
 * @module
 */

/** What happened to one delivery. */
export interface RequestEvent {
  kind: "request";
  /** Compound event id; a child id extends its parent's. */
  event: string;
  /** The parent event, if this request is part of a chain. */
  parent?: string;
  /** ISO time the delivery was taken. */
  at: string;
  node: string;
  broker: string;
  template?: string;
  op?: string;
  call?: string;
  /** Wire error code, absent on success. */
  code?: string;
  message?: string;
  ms: number;
  rows: number;
  /** 1 for the first delivery. */
  attempt: number;
  /** reply, retry or dead_letter. */
  action: "reply" | "retry" | "dead_letter";
  /** Why it was dead-lettered. */
  reason?: string;
  /** RabbitMQ-validated user of the publisher, if set. */
  user?: string;
  /**
   * Served on the admin exchange: status reports, system log lines, log store batches and reads,
   * graphs. The monitoring's own traffic; the log store records only its failures.
   */
  admin?: boolean;
  /**
   * A fan-out's parts, each a request of its own run inside this one: carried by their parent's
   * event rather than emitted apart, so a sink sees a fan-out whole in one call.
   */
  parts?: readonly PartEvent[];
}

/** One part of a fan-out, as its parent's {@link RequestEvent} carries it. */
export interface PartEvent {
  /** The part's own event id: its parent's, then `.<n>`. */
  event: string;
  template: string;
  op: string;
  call?: string;
  /** Wire error code, absent on success. */
  code?: string;
  message?: string;
  ms: number;
  rows: number;
}

/**
 * A part as the request event it would be on its own: a child of its parent's event, taken with
 * it (same time, node, broker and attempt), answered within it.
 */
export function partRequestEvent(parent: RequestEvent, part: PartEvent): RequestEvent {
  const event: RequestEvent = {
    kind: "request",
    event: part.event,
    parent: parent.event,
    at: parent.at,
    node: parent.node,
    broker: parent.broker,
    template: part.template,
    op: part.op,
    ms: part.ms,
    rows: part.rows,
    attempt: parent.attempt,
    action: "reply",
  };
  if (part.call !== undefined) event.call = part.call;
  if (part.code !== undefined) event.code = part.code;
  if (part.message !== undefined) event.message = part.message;
  return event;
}

/** A state change of the node (AMQP connection, consumers, pools). */
export interface StatusEvent {
  kind: "status";
  at: string;
  node: string;
  /** The tagged status, e.g. `{ type: "reconnecting", attempt: 2 }`. */
  status: { type: string } & Record<string, unknown>;
}

/** The record of one IPL run. */
export interface IplEvent {
  kind: "ipl";
  event: string;
  at: string;
  node: string;
  role: string;
  env: string;
  ok: boolean;
  ms: number;
  steps: ReadonlyArray<Record<string, unknown>>;
  /** Digest of the configuration without secrets. */
  configDigest: string;
}

/** Anything a node reports. */
export type LogEvent = RequestEvent | StatusEvent | IplEvent;

/** Receives events; implementations must return at once and never throw. */
export interface EventSink {
  emit(event: LogEvent): void;
}

/** Fans one event out to several sinks. */
export function fanOut(sinks: readonly EventSink[]): EventSink {
  return {
    emit(event) {
      for (const sink of sinks) {
        try {
          sink.emit(event);
        } catch {
          // A failing sink must never affect dispatch.
        }
      }
    },
  };
}

/** A sink that drops everything. */
export const NULL_SINK: EventSink = { emit() {} };
