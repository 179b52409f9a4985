/**
 * Status reports: every `[admin] report_ms` a node sends what `beds status`
 * would show of it to `create.nst` on the admin exchange (fire-and-forget);
 * the admin role keeps the latest report of every node, so `read.nst`
 * answers for the whole fleet, including nodes that stopped reporting.
 *
 * @module
 */
import type { BrokerStatus } from "../brokers/mod.ts";

/** What a node says about itself (a subset of its `status` admin reply). */
export interface NodeSelf {
  node: string;
  role: string;
  uptimeMs: number;
  brokers: readonly BrokerStatus[];
  [more: string]: unknown;
}

/** One report, as the `nst` template's create takes it. */
export interface NodeReport {
  node: string;
  role: string;
  version: string;
  started_at: string;
  at: string;
  inflight: number;
  requests: number;
  errors: number;
  rate: number;
  last_error: string | null;
  doc: Record<string, unknown>;
}

/** Sums the brokers' counters into one report; the whole status goes along as `doc`. */
export function reportOf(self: NodeSelf, version: string, now = Date.now()): NodeReport {
  const sum = (f: (b: BrokerStatus) => number) => self.brokers.reduce((n, b) => n + f(b), 0);
  const last = self.brokers
    .map((b) => b.lastError)
    .filter((e): e is NonNullable<BrokerStatus["lastError"]> => e !== undefined)
    .sort((a, b) => (a.at < b.at ? 1 : -1))[0];
  return {
    node: self.node,
    role: self.role,
    version,
    started_at: new Date(now - self.uptimeMs).toISOString(),
    at: new Date(now).toISOString(),
    inflight: sum((b) => b.inflight),
    requests: sum((b) => b.requests),
    errors: sum((b) => b.errors),
    rate: Math.round(sum((b) => b.ratePerSec) * 100) / 100,
    last_error: last ? `${last.code} at ${last.at}` : null,
    doc: { ...self },
  };
}

/** Options for {@link startReports}. */
export interface ReportsOptions {
  everyMs: number;
  report: () => NodeReport;
  send: (report: NodeReport) => Promise<void>;
  /** Told about a report that could not be sent (the next one will be tried anyway). */
  onError?: (error: unknown) => void;
}

/** Sends a report now and every `everyMs`; `stop()` ends it. */
export function startReports(options: ReportsOptions): { stop(): void } {
  let sending = false;
  const tick = () => {
    if (sending) return; // a slow broker must not pile up reports
    sending = true;
    Promise.resolve()
      .then(() => options.send(options.report()))
      .catch((error) => options.onError?.(error))
      .finally(() => sending = false);
  };
  tick();
  const timer = setInterval(tick, options.everyMs);
  Deno.unrefTimer(timer);
  return { stop: () => clearInterval(timer) };
}
