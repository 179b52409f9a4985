/**
 * Load generators. A closed loop keeps K requests in flight (each worker
 * sends the next request when its reply arrives); an open loop starts
 * requests at a fixed rate whatever the replies do, and measures each
 * latency from the moment the request was due, so a stall shows up in the
 * percentiles instead of silently slowing the sender (coordinated omission).
 *
 * Both run a warm-up that is not recorded, then a measured window whose
 * start and end are reported through hooks (the runner reads process CPU
 * time there). What completes inside the window is counted, whenever it
 * was sent.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";

/** What one request ended with. */
export interface Outcome {
  ok: boolean;
  /** Error code for a failed request (wire code or client error kind). */
  code?: string;
}

/** Sends request number `i` and resolves with its outcome; may also throw. */
export type Send = (i: number) => Promise<Outcome>;

/** How the load is applied. */
export type LoadSpec =
  | { mode: "closed"; concurrency: number }
  | { mode: "open"; rate: number; max_inflight?: number };

/** Progress seen every second while a load runs. */
export interface LoadProgress {
  measuring: boolean;
  elapsedMs: number;
  completed: number;
  errors: number;
  inflight: number;
}

/** Options for {@link runLoad}. */
export interface LoadOptions {
  spec: LoadSpec;
  send: Send;
  /** Unrecorded warm-up before the measured window. */
  warmupMs: number;
  /** Length of the measured window. */
  durationMs: number;
  /** Width of one throughput-over-time bucket. @default 250 */
  bucketMs?: number;
  /** Called right as the measured window opens. */
  onMeasureStart?: () => void;
  /** Called right as the measured window closes (before in-flight requests drain). */
  onMeasureEnd?: () => void;
  onProgress?: (progress: LoadProgress) => void;
}

/** What a load run measured (only requests that completed inside the window count). */
export interface LoadResult {
  completed: number;
  errors: number;
  /** Error count per code. */
  errorCodes: Record<string, number>;
  /** Measured window length in ms. */
  windowMs: number;
  /** Completed requests (ok or not) per second of the window. */
  tps: number;
  /** Latencies of successful requests, in microseconds. */
  histogram: hdr.Histogram;
  /** Completions per second in each bucket of the window. */
  timeline: number[];
  bucketMs: number;
}

const MAX_LATENCY_US = 120_000_000;

/** A latency histogram in microseconds, 3 significant digits (pure JS build). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_US,
    numberOfSignificantValueDigits: 3,
  });
}

function codeOf(error: unknown): string {
  const kind = (error as { kind?: unknown })?.kind;
  return typeof kind === "string" ? kind : "EXCEPTION";
}

/** Runs one load (closed or open loop) and resolves when the measured window is over and drained. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const bucketMs = options.bucketMs ?? 250;
  const histogram = newHistogram();
  const buckets = new Array<number>(Math.ceil(options.durationMs / bucketMs)).fill(0);
  const errorCodes: Record<string, number> = {};
  let completed = 0;
  let errors = 0;
  let inflight = 0;
  let seq = 0;
  const t0 = performance.now();
  const measureFrom = t0 + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  let measuring = false;

  const record = (dueAt: number, outcome: Outcome | undefined, error: unknown) => {
    const now = performance.now();
    if (now < measureFrom || now >= measureTo) return;
    completed++;
    buckets[Math.min(buckets.length - 1, Math.floor((now - measureFrom) / bucketMs))]!++;
    if (outcome?.ok) {
      histogram.recordValue(Math.min(MAX_LATENCY_US, Math.max(1, Math.round((now - dueAt) * 1000))));
      return;
    }
    errors++;
    const code = outcome?.code ?? codeOf(error);
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };

  const fire = async (dueAt: number) => {
    inflight++;
    try {
      record(dueAt, await options.send(seq++), undefined);
    } catch (error) {
      record(dueAt, undefined, error);
    } finally {
      inflight--;
    }
  };

  const progressTimer = setInterval(() => {
    options.onProgress?.({
      measuring,
      elapsedMs: performance.now() - (measuring ? measureFrom : t0),
      completed,
      errors,
      inflight,
    });
  }, 1000);
  const windowTimers = [
    setTimeout(() => {
      measuring = true;
      options.onMeasureStart?.();
    }, options.warmupMs),
    setTimeout(() => {
      measuring = false;
      options.onMeasureEnd?.();
    }, options.warmupMs + options.durationMs),
  ];

  try {
    if (options.spec.mode === "closed") {
      await closedLoop(options.spec.concurrency, measureTo, fire);
    } else {
      await openLoop(options.spec, t0, measureTo, fire, () => inflight, (dueAt) => {
        record(dueAt, { ok: false, code: "SATURATED" }, undefined);
      });
    }
  } finally {
    clearInterval(progressTimer);
  }
  // Both window hooks have fired by now (the loops end only after measureTo), unless timers lagged.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, measureTo - performance.now())));
  for (const timer of windowTimers) clearTimeout(timer);
  if (measuring) {
    measuring = false;
    options.onMeasureEnd?.();
  }
  const windowMs = options.durationMs;
  return {
    completed,
    errors,
    errorCodes,
    windowMs,
    tps: completed / (windowMs / 1000),
    histogram,
    timeline: buckets.map((n) => n / (bucketMs / 1000)),
    bucketMs,
  };
}

async function closedLoop(
  concurrency: number,
  stopAt: number,
  fire: (dueAt: number) => Promise<void>,
): Promise<void> {
  const worker = async () => {
    while (performance.now() < stopAt) await fire(performance.now());
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function openLoop(
  spec: { rate: number; max_inflight?: number },
  t0: number,
  stopAt: number,
  fire: (dueAt: number) => Promise<void>,
  inflight: () => number,
  saturated: (dueAt: number) => void,
): Promise<void> {
  const interval = 1000 / spec.rate;
  const maxInflight = spec.max_inflight ?? 10_000;
  const running = new Set<Promise<void>>();
  let issued = 0;
  while (true) {
    const now = performance.now();
    if (now >= stopAt) break;
    // Start every request that is due by now, each stamped with the time it was due.
    while (t0 + issued * interval <= now) {
      const dueAt = t0 + issued++ * interval;
      if (inflight() >= maxInflight) {
        saturated(dueAt);
        continue;
      }
      const p = fire(dueAt);
      running.add(p);
      p.finally(() => running.delete(p));
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Math.min(5, t0 + issued * interval - now)))
    );
  }
  await Promise.all(running);
}
