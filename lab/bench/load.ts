/**
 * Load generators. A closed loop keeps K requests in flight (each worker
 * sends the next request when its reply arrives); an open loop starts
 * requests at a fixed rate whatever the replies do, and measures each
 * latency from the moment the request was due, so a stall shows up in the
 * percentiles instead of silently slowing the sender (coordinated omission).
 *
 * Both run a warm-up that is not recorded, then a measured window whose
 * start and end are reported through hooks (the runner reads process CPU
 * time there). A request belongs to the window when it was sent inside it
 * (in an open loop: when it was due inside it), whenever it answers: its
 * latency counts even when the answer comes during the drain after the
 * window, so a stall straddling the window's end still shows. A request sent
 * during the warm-up never counts towards throughput, so a fixed rate never
 * reports more than it offered; its latency counts when it answers inside the
 * window, so a stall straddling the window's start shows too. Errors are counted by when
 * they are seen instead: every failure from the window's opening to the end
 * of the drain, whichever part of the run sent the request, and every request
 * with no outcome at all by the end of the drain (`UNFINISHED`): a lost reply
 * must never look like a clean run.
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
  /**
   * How long after the window closes in-flight requests may still settle; any
   * left then count as `UNFINISHED` errors. @default {@link DRAIN_MS}
   */
  drainMs?: number;
  onProgress?: (progress: LoadProgress) => void;
}

/** What a load run measured (only requests sent inside the window count towards throughput). */
export interface LoadResult {
  /** Requests sent (open loop: due) inside the window that answered (ok or not) by the end of the drain. */
  completed: number;
  /** Those of {@link completed} that succeeded. */
  ok: number;
  /**
   * Failed requests: every failure seen from the window's opening to the end of the drain (also of
   * a request sent during the warm-up), and every request with no outcome by the end of the drain
   * (`UNFINISHED`, which {@link completed} leaves out).
   */
  errors: number;
  /** Error count per code. */
  errorCodes: Record<string, number>;
  /** Measured window length in ms. */
  windowMs: number;
  /** {@link completed} per second of the window. */
  tps: number;
  /** Latencies of the successful requests of {@link completed}, in microseconds. */
  histogram: hdr.Histogram;
  /**
   * Answers per second in each bucket of the window, by when they arrived, whichever part of the
   * run sent the request: what the system delivered over time (a stall shows as a dip).
   */
  timeline: number[];
  bucketMs: number;
}

const MAX_LATENCY_US = 120_000_000;

/**
 * Default drain after the window: far beyond any latency the scenarios see, and shorter
 * than the client's 10 s reply timeout, so a lost reply is counted instead of waited for.
 */
export const DRAIN_MS = 5000;

/** The error code of a request still without an outcome when the drain ends. */
export const UNFINISHED = "UNFINISHED";

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
  const drainMs = options.drainMs ?? DRAIN_MS;
  const histogram = newHistogram();
  const buckets = new Array<number>(Math.ceil(options.durationMs / bucketMs)).fill(0);
  const errorCodes: Record<string, number> = {};
  let completed = 0;
  let ok = 0;
  let errors = 0;
  let inflight = 0;
  let seq = 0;
  // Set once the result is taken: outcomes of requests abandoned by the drain no longer count.
  let settled = false;
  const t0 = performance.now();
  const measureFrom = t0 + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  let measuring = false;

  const countError = (code: string) => {
    errors++;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };
  const record = (dueAt: number, outcome: Outcome | undefined, error: unknown) => {
    if (settled) return;
    const now = performance.now();
    if (now >= measureFrom && now < measureTo) {
      buckets[Math.min(buckets.length - 1, Math.floor((now - measureFrom) / bucketMs))]!++;
    }
    const failed = !outcome?.ok;
    if (dueAt < measureFrom) {
      // A warm-up request: not part of the window's throughput, but what is seen of it once the
      // window is open is not hidden either: a failure, and the latency of one that answers inside
      // it (a stall across the window's start holds a closed loop's K requests, sent before it).
      if (now < measureFrom) return;
      if (failed) countError(outcome?.code ?? codeOf(error));
      else histogram.recordValue(Math.min(MAX_LATENCY_US, Math.max(1, Math.round((now - dueAt) * 1000))));
      return;
    }
    // Sent inside the window (the loops send nothing after it): counted whenever it answers.
    completed++;
    if (failed) {
      countError(outcome?.code ?? codeOf(error));
      return;
    }
    ok++;
    histogram.recordValue(Math.min(MAX_LATENCY_US, Math.max(1, Math.round((now - dueAt) * 1000))));
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

  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    const loop = options.spec.mode === "closed"
      ? closedLoop(options.spec.concurrency, measureTo, fire)
      : openLoop(options.spec, t0, measureTo, fire, () => inflight, (dueAt) => {
        record(dueAt, { ok: false, code: "SATURATED" }, undefined);
      });
    // The loops return once every request they sent has settled, which a lost reply delays for
    // the client's whole timeout: stop waiting when the drain is over.
    await Promise.race([
      loop,
      new Promise<void>((resolve) => {
        drainTimer = setTimeout(resolve, Math.max(0, measureTo + drainMs - performance.now()));
      }),
    ]);
  } finally {
    clearTimeout(drainTimer);
    clearInterval(progressTimer);
  }
  // Both window hooks have fired by now (the loops end only after measureTo), unless timers lagged.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, measureTo - performance.now())));
  for (const timer of windowTimers) clearTimeout(timer);
  if (measuring) {
    measuring = false;
    options.onMeasureEnd?.();
  }
  // Every request still in flight has not answered by the end of the drain.
  for (let i = 0; i < inflight; i++) countError(UNFINISHED);
  settled = true;
  const windowMs = options.durationMs;
  return {
    completed,
    ok,
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
    // Start every request that is due by now, each stamped with the time it was due; every one
    // due before the window closes is sent, so a window holds exactly its rate × its length.
    for (let dueAt = t0 + issued * interval; dueAt <= now && dueAt < stopAt; dueAt = t0 + issued * interval) {
      issued++;
      if (inflight() >= maxInflight) {
        saturated(dueAt);
        continue;
      }
      const p = fire(dueAt);
      running.add(p);
      p.finally(() => running.delete(p));
    }
    const next = t0 + issued * interval;
    if (next >= stopAt) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5, next - now))));
  }
  await Promise.all(running);
}
