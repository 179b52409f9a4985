/**
 * The metrics read from the node when Prometheus scrapes: broker gauges,
 * database pools, AMQP state, log store drops, event-loop lag and memory.
 * Cumulative values the node keeps itself (consumer restarts, log store
 * drops) are exposed as counters that follow them.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { MetricsSources } from "./metrics.ts";

const POOL_STATS: ReadonlyArray<[string, string]> = [
  ["size", "Connections configured"],
  ["alive", "Connections open now"],
  ["inflight", "Queries running or queued on the connections"],
];

/** A counter that follows a cumulative value read at scrape time. */
function followingCounter(
  registry: Registry,
  spec: { name: string; help: string; labelNames?: string[] },
  read: () => Iterable<readonly [Record<string, string>, number]>,
): void {
  const last = new Map<string, number>();
  new Counter({
    ...spec,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      for (const [labels, value] of read()) {
        const key = JSON.stringify(labels);
        const delta = value - (last.get(key) ?? 0);
        last.set(key, value);
        if (delta > 0) this.inc(labels, delta);
      }
    },
  });
}

/** Options for {@link registerScrapeMetrics}. */
export interface ScrapeMetricsOptions {
  registry: Registry;
  sources: MetricsSources;
  /** Largest event-loop lag (seconds) since the previous call. */
  lagMax: () => number;
  startedAtMs: number;
}

/** Registers the metrics read from the node at scrape time. */
export function registerScrapeMetrics(options: ScrapeMetricsOptions): void {
  const { registry, sources, lagMax } = options;
  const registers = [registry];
  new Gauge({
    name: "beds_inflight_requests",
    help: "Deliveries being processed now, by broker",
    labelNames: ["broker"],
    registers,
    collect() {
      this.reset();
      for (const b of sources.brokers()) this.set({ broker: b.broker }, b.inflight);
    },
  });
  new Gauge({
    name: "beds_consumers",
    help: "Consumers attached now, by broker",
    labelNames: ["broker"],
    registers,
    collect() {
      this.reset();
      for (const b of sources.brokers()) this.set({ broker: b.broker }, b.consumers);
    },
  });
  followingCounter(registry, {
    name: "beds_consumer_restarts_total",
    help: "Consumers restarted after their channel closed unexpectedly, by broker",
    labelNames: ["broker"],
  }, () => sources.brokers().map((b) => [{ broker: b.broker }, b.restarts] as const));
  followingCounter(registry, {
    name: "beds_logstore_dropped_total",
    help: "Events the log store dropped (buffer full or store failing); 0 without a log store",
  }, () => {
    const dropped = sources.logStoreDropped?.();
    return dropped === undefined ? [] : [[{}, dropped] as const];
  });
  new Gauge({
    name: "beds_db_up",
    help: "1 while the store adapter can serve, by store",
    labelNames: ["store"],
    registers,
    collect() {
      this.reset();
      for (const [store, health] of sources.adapters()) this.set({ store }, health.healthy ? 1 : 0);
    },
  });
  for (const [stat, help] of POOL_STATS) {
    new Gauge({
      name: `beds_db_pool_${stat}`,
      help: `${help}, by store and server`,
      labelNames: ["store", "server"],
      registers,
      collect() {
        this.reset();
        for (const [store, health] of sources.adapters()) {
          for (const [server, value] of Object.entries(health.detail)) {
            const n = (value as Record<string, unknown> | null)?.[stat];
            if (typeof n === "number") this.set({ store, server }, n);
          }
        }
      },
    });
  }
  new Gauge({
    name: "beds_event_loop_lag_seconds",
    help: "Largest event-loop lag since the previous scrape",
    registers,
    collect() {
      this.set(lagMax());
    },
  });
  new Gauge({
    name: "beds_process_resident_memory_bytes",
    help: "Resident set size of the node process",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "beds_process_heap_used_bytes",
    help: "JavaScript heap in use",
    registers,
    collect() {
      this.set(Deno.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: "beds_process_start_time_seconds",
    help: "When the node process started (seconds since the epoch)",
    registers,
  }).set(options.startedAtMs / 1000);
}
