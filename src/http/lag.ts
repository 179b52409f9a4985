/**
 * Event-loop lag, measured as the lateness of a steady timer. (Deno's
 * `monitorEventLoopDelay` from node:perf_hooks reports microseconds for a
 * loop blocked for tens of milliseconds, so it is not used.)
 *
 * @module
 */

/** A running lag sampler. */
export interface LagSampler {
  /** Largest lag (seconds) seen since the previous call, then starts a new window. */
  takeMax(): number;
  /** Stops the timer. */
  stop(): void;
}

/** Starts sampling every `intervalMs` (default 100 ms); the timer never keeps the process alive. */
export function startLagSampler(intervalMs = 100): LagSampler {
  let expected = performance.now() + intervalMs;
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - expected);
    if (lag > max) max = lag;
    expected = now + intervalMs;
  }, intervalMs);
  Deno.unrefTimer(timer);
  return {
    takeMax() {
      // A window with no tick yet at all is itself lag: count the time overdue.
      const overdue = Math.max(0, performance.now() - expected);
      const value = Math.max(max, overdue) / 1000;
      max = 0;
      return value;
    },
    stop: () => clearInterval(timer),
  };
}
