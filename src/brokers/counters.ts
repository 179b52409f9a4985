/**
 * Per-broker request counters, cheap enough for the hot path (plain integer
 * increments), read by status reports.
 *
 * @module
 */
import type { ErrorCode } from "../errors.ts";
import type { Op } from "../config/mod.ts";
import type { Disposition } from "./retry_policy.ts";

/** Counter values of one broker. */
export interface CounterSnapshot {
  requests: number;
  errors: number;
  retries: number;
  deadLetters: number;
  /** Requests per second over the last rate window (about 10 s). */
  ratePerSec: number;
  lastError?: { code: ErrorCode; at: string };
}

/** Records outcomes of requests. */
export interface BrokerCounters {
  record(
    template: string | undefined,
    op: Op | undefined,
    code: ErrorCode | undefined,
    action: Disposition["action"],
  ): void;
  snapshot(): CounterSnapshot;
}

/** Shortest window a rate is measured over, so a burst of status calls does not make it jumpy. */
const RATE_WINDOW_MS = 10_000;

/** Creates zeroed counters; `now` is the clock the rate is measured with. */
export function createCounters(now: () => number = Date.now): BrokerCounters {
  const c: Omit<CounterSnapshot, "ratePerSec"> = { requests: 0, errors: 0, retries: 0, deadLetters: 0 };
  // The rate is read off the request count at status time: nothing extra on the hot path.
  let window = { at: now(), requests: 0 };
  let rate = 0;
  return {
    record(_template, _op, code, action) {
      c.requests++;
      if (code !== undefined) {
        c.errors++;
        c.lastError = { code, at: new Date().toISOString() };
      }
      if (action === "retry") c.retries++;
      else if (action === "dead_letter") c.deadLetters++;
    },
    snapshot() {
      const t = now();
      const elapsed = t - window.at;
      if (elapsed > 0) {
        const current = ((c.requests - window.requests) * 1000) / elapsed;
        if (elapsed >= RATE_WINDOW_MS) {
          rate = current;
          window = { at: t, requests: c.requests };
        } else if (rate === 0) rate = current;
      }
      return { ...c, ratePerSec: Math.round(rate * 10) / 10 };
    },
  };
}
