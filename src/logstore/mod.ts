/**
 * The log store: node events (requests, IPL records, status changes) and
 * their sinks.
 *
 * @example
 * ```ts
 * import { fanOut, type LogEvent } from "./mod.ts";
 * const seen: LogEvent[] = [];
 * fanOut([{ emit: (e) => seen.push(e) }]).emit({ kind: "status", at: "", node: "n", status: { type: "closed" } });
 * ```
 *
 * @module
 */
export {
  type EventSink,
  fanOut,
  type IplEvent,
  type LogEvent,
  NULL_SINK,
  type RequestEvent,
  type StatusEvent,
} from "./events.ts";
