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

/** The rate is the requests of the last this many seconds (the current one so far included). */
const RATE_SECONDS = 10;

/** Creates zeroed counters; `now` is the clock the rate is measured with. */
export function createCounters(now: () => number = Date.now): BrokerCounters {
  const c: Omit<CounterSnapshot, "ratePerSec"> = { requests: 0, errors: 0, retries: 0, deadLetters: 0 };
  // Requests per second of the clock, in a ring of one slot per second: a rate read at any time
  // covers the seconds just before it, whenever it was read last (a status after an idle hour
  // shows the burst now, not the hour's average). Recording costs a clock read and an increment.
  const counts = new Array<number>(RATE_SECONDS).fill(0);
  const seconds = new Array<number>(RATE_SECONDS).fill(-Infinity);
  const started = now();
  return {
    record(_template, _op, code, action) {
      c.requests++;
      const second = Math.floor(now() / 1000);
      const slot = ((second % RATE_SECONDS) + RATE_SECONDS) % RATE_SECONDS;
      if (seconds[slot] !== second) {
        seconds[slot] = second;
        counts[slot] = 0;
      }
      counts[slot]!++;
      if (code !== undefined) {
        c.errors++;
        c.lastError = { code, at: new Date().toISOString() };
      }
      if (action === "retry") c.retries++;
      else if (action === "dead_letter") c.deadLetters++;
    },
    snapshot() {
      const t = now();
      const second = Math.floor(t / 1000);
      let recent = 0;
      for (let i = 0; i < RATE_SECONDS; i++) {
        if (seconds[i]! > second - RATE_SECONDS && seconds[i]! <= second) recent += counts[i]!;
      }
      // The slots cover the last RATE_SECONDS − 1 whole seconds and the current one so far; a
      // younger node, the time since it started.
      const span = Math.min(RATE_SECONDS - 1 + (t - second * 1000) / 1000, (t - started) / 1000);
      const rate = span > 0 ? recent / span : 0;
      return { ...c, ratePerSec: Math.round(rate * 10) / 10 };
    },
  };
}
