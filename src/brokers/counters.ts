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

/** Creates zeroed counters. */
export function createCounters(): BrokerCounters {
  const c: CounterSnapshot = { requests: 0, errors: 0, retries: 0, deadLetters: 0 };
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
    snapshot: () => ({ ...c }),
  };
}
