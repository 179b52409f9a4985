/**
 * Pure decision of what happens to a request after it ran: reply, retry
 * through a delay tier, or dead-letter. Transient failures of writes are
 * retried (never past the request's deadline); reads are answered at once;
 * anything that cannot be decoded, and any write that ends unapplied with no
 * one to tell (its deadline passed included), is kept in the dead-letter queue.
 *
 * @module
 */
import { type ErrorCode, TRANSIENT_CODES } from "../errors.ts";
import type { Op } from "../config/mod.ts";

/** What to do with a delivery after it ran. */
export type Disposition =
  | { action: "reply" }
  | { action: "retry"; tier: number; delayMs: number }
  | { action: "dead_letter"; reason: "poison" | "retries_exhausted" | "deadline" | "unanswered_write" };

/** The facts {@link decide} needs. */
export interface DecisionInput {
  /** Error code of the failure, or undefined on success. */
  code: ErrorCode | undefined;
  /** The request's op, or undefined when it could not be decoded. */
  op: Op | undefined;
  /** Attempt that just ran (1 = first delivery). */
  attempt: number;
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  /** Absolute deadline (ms), if the request has one. */
  deadlineMs?: number;
  now: number;
  hasReplyTo: boolean;
}

const POISON = new Set<ErrorCode | undefined>(["BAD_REQUEST", "TOO_LARGE"]);

/** True for ops that may change data (named calls may). */
export function isWrite(op: Op | undefined): boolean {
  return op !== undefined && op !== "read";
}

/** Decides the fate of one delivery. */
export function decide(input: DecisionInput): Disposition {
  const { code, op } = input;
  if (code === undefined) return { action: "reply" };
  if (op === undefined || POISON.has(code)) return { action: "dead_letter", reason: "poison" };
  if (!isWrite(op)) return { action: "reply" };
  // A retry that came back past its deadline (the delay queue or a backlog took longer than the
  // decision to retry allowed for): BEDS gives up on it as when the next delay would not fit.
  if (code === "DEADLINE_EXCEEDED" && input.attempt > 1) return { action: "dead_letter", reason: "deadline" };
  if (TRANSIENT_CODES.has(code)) {
    if (input.attempt >= input.maxAttempts || input.retryDelaysMs.length === 0) {
      return { action: "dead_letter", reason: "retries_exhausted" };
    }
    const tier = Math.min(input.attempt - 1, input.retryDelaysMs.length - 1);
    const delayMs = input.retryDelaysMs[tier]!;
    if (input.deadlineMs !== undefined && input.now + delayMs >= input.deadlineMs) {
      return { action: "dead_letter", reason: "deadline" };
    }
    return { action: "retry", tier, delayMs };
  }
  if (!input.hasReplyTo) {
    // Nobody hears of it: a write that did not run for its deadline is kept like any other (its
    // sender gave up waiting, but may never have seen it fail; a replayed letter has no sender).
    return { action: "dead_letter", reason: code === "DEADLINE_EXCEEDED" ? "deadline" : "unanswered_write" };
  }
  return { action: "reply" };
}
