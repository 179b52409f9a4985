/**
 * Warnings a client can cause as fast as it can send (a reply refused, a request dead-lettered):
 * one line per request would flood the node's log and, through the admin role's system log, push
 * other nodes' lines out of the senders' buffers. Each is logged at most once per interval per
 * key, the line counting those since the last; every one stays in the log store and the metrics.
 *
 * @module
 */
import type { Logger } from "./mod.ts";

/** Options for {@link createWarningThrottle}. */
export interface WarningThrottleOptions {
  logger: Logger;
  /** Least time between two lines of one key; those between are counted in the next. @default 10000 */
  everyMs?: number;
  /** The clock the lines are spaced with. @default Date.now */
  now?: () => number;
}

/** Logs `msg` with `fields` unless a line of `key` went out less than `everyMs` ago; `countField` gets how many there were since (this one included). */
export type WarningThrottle = (
  key: string,
  fields: Record<string, unknown>,
  msg: string,
  countField?: string,
) => void;

/** A throttle whose keys are few and fixed (a broker and a reason): it keeps one entry per key. */
export function createWarningThrottle(options: WarningThrottleOptions): WarningThrottle {
  const { logger, now = Date.now } = options;
  const everyMs = options.everyMs ?? 10_000;
  const last = new Map<string, { at: number; unreported: number }>();
  return (key, fields, msg, countField = "count") => {
    const entry = last.get(key) ?? { at: -Infinity, unreported: 0 };
    last.set(key, entry);
    entry.unreported++;
    const at = now();
    if (at - entry.at < everyMs) return;
    logger.warn({ ...fields, [countField]: entry.unreported }, msg);
    entry.at = at;
    entry.unreported = 0;
  };
}
