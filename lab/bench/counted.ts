/**
 * A counted run: a closed loop that sends exactly `total` requests and
 * reads the serving process's RSS each time another `every` of them have
 * completed, e.g. to check that a node's memory stays flat from its
 * 100,000th to its 1,000,000th request.
 *
 * @module
 */
import { newHistogram, type Send } from "./load.ts";
import { cpuMicrosOf, rssKiB } from "./proc.ts";

/** RSS after a number of completed requests. */
export interface RssSample {
  requests: number;
  rss_kib: number;
  /** Seconds since the run started. */
  at_s: number;
}

/** What a counted run measured. */
export interface CountedResult {
  completed: number;
  errors: number;
  error_codes: Record<string, number>;
  /** Over the whole run. */
  tps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Serving process CPU per request over the whole run, µs. */
  cpu_us_per_tx: number;
  rss_before_kib: number;
  samples: RssSample[];
  /**
   * (last sample − first sample) ÷ first sample: the growth from the first mark (e.g. the
   * 100,000th request) to the last (the 1,000,000th); 0.05 is 5 %.
   */
  rss_growth: number;
}

/** Options for {@link runCounted}. */
export interface CountedOptions {
  concurrency: number;
  total: number;
  every: number;
  send: Send;
  /** The serving process, whose RSS and CPU are read. */
  pid: number;
  /** Told after each sample. */
  onSample?: (sample: RssSample, completed: number) => void;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** Sends `total` requests, `concurrency` at a time, sampling RSS every `every` completions. */
export async function runCounted(options: CountedOptions): Promise<CountedResult> {
  const { total, every, pid } = options;
  const histogram = newHistogram();
  const errorCodes: Record<string, number> = {};
  const samples: RssSample[] = [];
  let sent = 0;
  let completed = 0;
  let errors = 0;
  const rssBefore = rssKiB(pid);
  const cpu0 = cpuMicrosOf([pid]);
  const t0 = performance.now();
  const worker = async () => {
    while (sent < total) {
      const i = sent++;
      const started = performance.now();
      try {
        const outcome = await options.send(i);
        if (outcome.ok) histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
        else {
          errors++;
          const code = outcome.code ?? "ERROR";
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      } catch (error) {
        errors++;
        const kind = (error as { kind?: unknown })?.kind;
        const code = typeof kind === "string" ? kind : "EXCEPTION";
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      }
      completed++;
      if (completed % every === 0) {
        const sample = {
          requests: completed,
          rss_kib: rssKiB(pid),
          at_s: r3((performance.now() - t0) / 1000),
        };
        samples.push(sample);
        options.onSample?.(sample, completed);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const first = samples[0]?.rss_kib ?? 0;
  const last = samples[samples.length - 1]?.rss_kib ?? 0;
  return {
    completed,
    errors,
    error_codes: errorCodes,
    tps: r3(completed / seconds),
    p50_ms: r3(histogram.getValueAtPercentile(50) / 1000),
    p99_ms: r3(histogram.getValueAtPercentile(99) / 1000),
    max_ms: r3(histogram.maxValue / 1000),
    cpu_us_per_tx: completed ? Math.round((cpuMicrosOf([pid]) - cpu0) / completed * 10) / 10 : 0,
    rss_before_kib: rssBefore,
    samples,
    rss_growth: first ? Math.round((last - first) / first * 10_000) / 10_000 : 0,
  };
}
