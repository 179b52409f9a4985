/**
 * One measured phase: a load run against one system (BEDS, or one of the
 * raw ceilings) with the CPU time of the serving processes read exactly at
 * the window's edges.
 *
 * @module
 */
import type { Reply } from "../../src/protocol/mod.ts";
import { type LoadProgress, type LoadSpec, runLoad, type Send } from "./load.ts";
import { cpuMicros, cpuMicrosOf, oldestPidNamed, rssKiB } from "./proc.ts";

/** Percentiles sampled for the latency distribution plot. */
export const CURVE_PERCENTILES = [
  0,
  10,
  25,
  50,
  75,
  90,
  95,
  97,
  99,
  99.5,
  99.9,
  99.95,
  99.99,
  100,
];

/** What one phase measured. */
export interface PhaseResult {
  tps: number;
  /** Requests sent (open loop: due) inside the window that answered, ok or not, by the end of the drain. */
  completed: number;
  /** Those of {@link completed} that succeeded. */
  ok: number;
  /** Failures seen from the window's opening to the end of the drain, and requests never answered (`UNFINISHED`). */
  errors: number;
  error_codes: Record<string, number>;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** CPU time of the serving processes per completed request, µs. */
  cpu_us_per_tx: number;
  /** CPU time of the load generator (this process) per completed request, µs. */
  client_cpu_us_per_tx: number;
  /**
   * CPU time of RabbitMQ and of MariaDB per completed request, µs. Indicative only: the
   * servers are shared, so other work on the machine counts too.
   */
  rabbitmq_cpu_us_per_tx: number;
  mariadb_cpu_us_per_tx: number;
  /** Resident memory of the serving processes before and after, KiB (0 when not a child process). */
  rss_before_kib: number;
  rss_after_kib: number;
  /** Completions per second over the window, one value per `bucket_ms`. */
  timeline: number[];
  bucket_ms: number;
  /** Latency (ms) at each of {@link CURVE_PERCENTILES}. */
  curve_ms: number[];
}

/** Options for {@link runPhase}. */
export interface PhaseOptions {
  spec: LoadSpec;
  send: Send;
  warmupMs: number;
  durationMs: number;
  /** Processes doing the serving work, whose CPU counts; empty = this process (in-process raw DB calls). */
  pids: readonly number[];
  /** How long in-flight requests may settle after the window. @default load.ts's DRAIN_MS */
  drainMs?: number;
  onProgress?: (progress: LoadProgress) => void;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Turns a BEDS-style reply into an outcome. */
export function outcomeOf(reply: Reply | { ok: boolean; error?: { code?: string } }) {
  return reply.ok ? { ok: true } : { ok: false, code: reply.error?.code ?? "ERROR" };
}

/** Runs one load and reads CPU and memory around its measured window. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const serverCpu = () => options.pids.length ? cpuMicrosOf(options.pids) : cpuMicros();
  const rss = () => options.pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
  const rssBefore = rss();
  const rabbit = [oldestPidNamed("beam.smp")].filter((pid) => pid !== undefined);
  const maria = [oldestPidNamed("mariadbd")].filter((pid) => pid !== undefined);
  let cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0, mq0 = 0, mq1 = 0, db0 = 0, db1 = 0;
  const load = await runLoad({
    spec: options.spec,
    send: options.send,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    drainMs: options.drainMs,
    onProgress: options.onProgress,
    onMeasureStart: () => {
      cpu0 = serverCpu();
      self0 = cpuMicros();
      mq0 = cpuMicrosOf(rabbit);
      db0 = cpuMicrosOf(maria);
    },
    onMeasureEnd: () => {
      cpu1 = serverCpu();
      self1 = cpuMicros();
      mq1 = cpuMicrosOf(rabbit);
      db1 = cpuMicrosOf(maria);
    },
  });
  const h = load.histogram;
  const ms = (us: number) => round(us / 1000);
  const per = (us: number) => load.completed ? round(us / load.completed, 1) : 0;
  return {
    tps: round(load.tps, 1),
    completed: load.completed,
    ok: load.ok,
    errors: load.errors,
    error_codes: load.errorCodes,
    p50_ms: ms(h.getValueAtPercentile(50)),
    p90_ms: ms(h.getValueAtPercentile(90)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    max_ms: ms(h.maxValue),
    cpu_us_per_tx: per(cpu1 - cpu0),
    client_cpu_us_per_tx: per(self1 - self0),
    rabbitmq_cpu_us_per_tx: per(mq1 - mq0),
    mariadb_cpu_us_per_tx: per(db1 - db0),
    rss_before_kib: rssBefore,
    rss_after_kib: rss(),
    timeline: load.timeline.map((v) => round(v, 1)),
    bucket_ms: load.bucketMs,
    curve_ms: CURVE_PERCENTILES.map((p) => ms(p === 100 ? h.maxValue : h.getValueAtPercentile(p))),
  };
}
