/**
 * Pure reconnect backoff: capped exponential with "equal jitter", so a fleet
 * that lost its broker does not reconnect in lockstep.
 *
 * @module
 */

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /** First delay. @default 200 */
  initialMs?: number;
  /** Upper bound. @default 15000 */
  maxMs?: number;
  /** Random source in [0, 1). @default Math.random */
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (0-based): half fixed, half random. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 15_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (options.random ?? Math.random)() * ceiling / 2);
}
