/**
 * Pure restart policy of a crashed consumer: capped exponential backoff over
 * a streak of quick failures, so a crash loop never spins the CPU, and a
 * consumer that ran for a stable period starts its backoff afresh.
 *
 * @module
 */

/** Tuning of {@link nextRestart}. */
export interface RestartPolicy {
  /** Delay before the first restart of a streak. @default 100 */
  initialMs: number;
  /** Upper bound of the delay. @default 30000 */
  maxMs: number;
  /** A consumer that ran at least this long before failing starts a new streak. @default 60000 */
  stableMs: number;
  /** Failures in a streak from which it counts as a crash loop (logged as errors, shown in status). @default 5 */
  crashLoopAfter: number;
}

/** The policy the broker pool uses. */
export const RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  initialMs: 100,
  maxMs: 30_000,
  stableMs: 60_000,
  crashLoopAfter: 5,
});

/** What is known when a consumer (or a restart of it) failed. */
export interface RestartInput {
  /** Failures in a row before this one (0 for the first). */
  streak: number;
  /** How long the consumer ran before this failure (0 if it never started). */
  ranMs: number;
}

/** When to restart, and the state to carry to the next failure. */
export interface RestartDecision {
  /** Wait this long before restarting. */
  delayMs: number;
  /** Failures in a row including this one: the next failure's `streak`. */
  streak: number;
  /** True once the streak is long enough to call it a crash loop. */
  crashLoop: boolean;
}

/** Decides the delay before restarting a consumer that just failed. */
export function nextRestart(input: RestartInput, policy: RestartPolicy = RESTART_POLICY): RestartDecision {
  const before = input.ranMs >= policy.stableMs ? 0 : Math.max(0, input.streak);
  const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(before, 30));
  return { delayMs, streak: before + 1, crashLoop: before + 1 >= policy.crashLoopAfter };
}

/** What is known about one consumer slot now. */
export interface SlotState {
  /** Failures in a row so far. */
  streak: number;
  /** True while its consumer runs. */
  running: boolean;
  /** How long its current consumer has run (ignored when not running). */
  runningMs: number;
}

/**
 * True while a slot is in a crash loop: its streak is long, and it is down
 * or has not yet run for a stable period since its last restart.
 */
export function inCrashLoop(slot: SlotState, policy: RestartPolicy = RESTART_POLICY): boolean {
  return slot.streak >= policy.crashLoopAfter && (!slot.running || slot.runningMs < policy.stableMs);
}
