/**
 * Request counts and latencies, kept in plain maps and turned
 * into Prometheus series only when scraped. prom-client's own `inc` and
 * `observe` cost 0.4–1 µs per request (they build a label hash each
 * time); this costs about 0.07 µs (lab/bench_metrics.ts).
 *
 * The metrics are registered as objects with prom-client's `get()`
 * shape, so the registry still formats and escapes them.
 *
 * @module
 */
import type { Metric, MetricValue, Registry } from "prom-client";

interface Entry {
  labels: { template: string; op: string };
  results: Map<string, number>;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Name and help text of one metric. */
export interface MetricName {
  name: string;
  help: string;
}

/** Options for {@link registerRequestStats}. */
export interface RequestStatsOptions {
  registry: Registry;
  /** The counter, labelled template, op and the result. */
  counter: MetricName;
  /** Name of the result label. @default "code" */
  resultLabel?: string;
  /** The latency histogram, labelled template and op; none when omitted. */
  histogram?: MetricName;
  /** Upper bounds of the latency buckets in seconds, ascending. */
  buckets: readonly number[];
}

/** Records one delivery. */
export type RecordRequest = (template: string, op: string, result: string, seconds: number) => void;

/** Registers the counter (and histogram) and returns the recorder. */
export function registerRequestStats(options: RequestStatsOptions): RecordRequest {
  const bounds = options.buckets;
  const resultLabel = options.resultLabel ?? "code";
  const entries = new Map<string, Entry>();

  const requests = {
    ...options.counter,
    type: "counter",
    aggregator: "sum",
    get() {
      const values: MetricValue<string>[] = [];
      for (const e of entries.values()) {
        for (const [result, value] of e.results) {
          values.push({ labels: { ...e.labels, [resultLabel]: result }, value });
        }
      }
      return Promise.resolve({
        name: this.name,
        help: this.help,
        type: this.type,
        aggregator: "sum",
        values,
      });
    },
  };
  const latency = options.histogram && {
    ...options.histogram,
    type: "histogram",
    aggregator: "sum",
    get() {
      const values: Array<MetricValue<string> & { metricName: string }> = [];
      for (const e of entries.values()) {
        let cumulative = 0;
        for (const [i, n] of e.buckets.entries()) {
          cumulative += n;
          const le = i < bounds.length ? bounds[i]! : "+Inf";
          values.push({ metricName: `${this.name}_bucket`, labels: { le, ...e.labels }, value: cumulative });
        }
        values.push({ metricName: `${this.name}_sum`, labels: e.labels, value: e.sum });
        values.push({ metricName: `${this.name}_count`, labels: e.labels, value: e.count });
      }
      return Promise.resolve({
        name: this.name,
        help: this.help,
        type: this.type,
        aggregator: "sum",
        values,
      });
    },
  };
  options.registry.registerMetric(requests as unknown as Metric);
  if (latency) options.registry.registerMetric(latency as unknown as Metric);

  return (template, op, result, seconds) => {
    const key = template + "\u0000" + op;
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = {
        labels: { template, op },
        results: new Map(),
        buckets: new Array(bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      entries.set(key, entry);
    }
    entry.results.set(result, (entry.results.get(result) ?? 0) + 1);
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    entry.buckets[i]!++;
    entry.sum += seconds;
    entry.count++;
  };
}
