/**
 * Node metrics in the Prometheus text format, on a registry of their own
 * (never prom-client's global one). Request counts, latencies, retries and
 * dead letters come from the request events the consumers already emit
 * (an {@link EventSink}); gauges are read from the node at scrape time.
 *
 * Counting stays cheap on the hot path: per-request counts and latencies
 * are plain map updates, formatted only when scraped (request_stats.ts);
 * lab/bench_metrics.ts measures the cost of one event.
 *
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { EventSink, LogEvent, RequestEvent } from "../logstore/mod.ts";
import type { AdapterHealth } from "../adapters/mod.ts";
import { startLagSampler } from "./lag.ts";
import { registerScrapeMetrics } from "./scrape_metrics.ts";
import { registerRequestStats } from "./request_stats.ts";

/** What one broker reports at scrape time. */
export interface BrokerGauges {
  broker: string;
  consumers: number;
  inflight: number;
  /** Consumer restarts since the node started. */
  restarts: number;
}

/** Where scrape-time values come from. Every function must be cheap and must not throw. */
export interface MetricsSources {
  brokers(): readonly BrokerGauges[];
  /** Health of each store adapter by name. */
  adapters(): Iterable<readonly [string, AdapterHealth]>;
  amqpConnected(): boolean;
  /** Events the log store had to drop so far; undefined when the node has no log store. */
  logStoreDropped?(): number | undefined;
  /** True when `name` is a loaded template (keeps junk names out of the label set). */
  knownTemplate?(name: string): boolean;
}

/** Options for {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  node: string;
  role: string;
  version: string;
  sources: MetricsSources;
  /** When the process started (ms since the epoch). @default now */
  startedAtMs?: number;
  /** Event-loop lag sampling period. @default 100 */
  lagIntervalMs?: number;
}

/** The metrics of one node. */
export interface NodeMetrics {
  /** Push into the node's sinks; counts request and status events. */
  readonly sink: EventSink;
  /** Counts one gateway answer. */
  recordGateway(template: string, op: string, status: number, seconds: number): void;
  /** The exposition text. */
  render(): Promise<string>;
  /** Content type of {@link render}'s text. */
  readonly contentType: string;
  /** Stops the lag sampler. */
  close(): void;
}

/** Label for a missing template or op. */
const NONE = "_none";
/** Label for a template name that is not loaded (template names start with a letter). */
const UNKNOWN = "_unknown";
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates the registry, its metrics and the sink that feeds them. */
export function createNodeMetrics(options: NodeMetricsOptions): NodeMetrics {
  const { sources } = options;
  const registry = new Registry();
  const registers = [registry];
  const lag = startLagSampler(options.lagIntervalMs);

  new Gauge({
    name: "beds_info",
    help: "Always 1; labels name the node, its role and the BEDS version",
    labelNames: ["node", "role", "version"],
    registers,
  }).set({ node: options.node, role: options.role, version: options.version }, 1);

  const recordRequest = registerRequestStats({
    registry,
    counter: {
      name: "beds_requests_total",
      help: "Deliveries handled, by template, op and result code (ok or the wire error code)",
    },
    histogram: {
      name: "beds_request_duration_seconds",
      help: "Time from delivery to reply, by template and op",
    },
    buckets: LATENCY_BUCKETS,
  });
  const recordPart = registerRequestStats({
    registry,
    counter: {
      name: "beds_request_parts_total",
      help: "Fan-out parts run for composite (REL) requests, by template, op and result code",
    },
    buckets: [],
  });
  const retries = new Counter({
    name: "beds_retries_total",
    help: "Writes sent to a retry tier after a transient failure",
    labelNames: ["broker", "template", "op"],
    registers,
  });
  const deadLetters = new Counter({
    name: "beds_dead_letters_total",
    help: "Deliveries kept in a dead-letter queue, by broker and reason",
    labelNames: ["broker", "reason"],
    registers,
  });
  const reconnects = new Counter({
    name: "beds_amqp_reconnects_total",
    help: "Times the AMQP connection was re-established after a loss",
    registers,
  });
  const disconnects = new Counter({
    name: "beds_amqp_disconnects_total",
    help: "Times the AMQP connection was lost",
    registers,
  });
  let blocked = 0;
  new Gauge({
    name: "beds_amqp_blocked",
    help: "1 while RabbitMQ blocks publishing (flow control, resource alarm)",
    registers,
    collect() {
      this.set(blocked);
    },
  });
  new Gauge({
    name: "beds_amqp_connected",
    help: "1 while the node's AMQP connection is open",
    registers,
    collect() {
      this.set(sources.amqpConnected() ? 1 : 0);
    },
  });
  const recordGateway = registerRequestStats({
    registry,
    counter: {
      name: "beds_gateway_requests_total",
      help: "HTTP gateway answers, by template, op and HTTP status",
    },
    resultLabel: "status",
    histogram: {
      name: "beds_gateway_request_duration_seconds",
      help: "HTTP gateway time from request to answer, by template and op",
    },
    buckets: LATENCY_BUCKETS,
  });
  registerScrapeMetrics({
    registry,
    sources,
    lagMax: lag.takeMax,
    startedAtMs: options.startedAtMs ?? Date.now(),
  });

  const templateLabel = (t: string | undefined, code: string | undefined): string => {
    if (t === undefined) return NONE;
    if (code === undefined || !sources.knownTemplate || sources.knownTemplate(t)) return t;
    return UNKNOWN;
  };

  const onRequest = (event: RequestEvent) => {
    const template = templateLabel(event.template, event.code);
    const op = event.op ?? NONE;
    recordRequest(template, op, event.code ?? "ok", event.ms / 1000);
    if (event.parts !== undefined) {
      for (const part of event.parts) {
        recordPart(templateLabel(part.template, part.code), part.op, part.code ?? "ok", part.ms / 1000);
      }
    }
    if (event.action === "retry") retries.inc({ broker: event.broker, template, op });
    else if (event.action === "dead_letter") {
      deadLetters.inc({ broker: event.broker, reason: event.reason ?? NONE });
    }
  };

  const onStatus = (type: string, status: Record<string, unknown>) => {
    if (type === "connected" && typeof status.attempt === "number" && status.attempt > 0) reconnects.inc();
    else if (type === "disconnected") disconnects.inc();
    else if (type === "blocked") blocked = 1;
    else if (type === "unblocked") blocked = 0;
  };

  return {
    sink: {
      emit(event: LogEvent) {
        if (event.kind === "request") onRequest(event);
        else if (event.kind === "status") onStatus(event.status.type, event.status);
      },
    },
    recordGateway(template, op, status, seconds) {
      // The path's template is whatever a client wrote: a name this node does not know is one
      // label, or every made-up name would add a series.
      const known = template === NONE || template === UNKNOWN || !sources.knownTemplate ||
        sources.knownTemplate(template);
      recordGateway(known ? template : UNKNOWN, op, String(status), seconds);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
    close: () => lag.stop(),
  };
}
