/**
 * The HTTP parts of IPL: every node's health and metrics listener, and the
 * gateway on roles that run one. Each returns the step's outcome with an
 * undo that closes what it opened.
 *
 * @module
 */
import { connectionBlocked } from "../amqp/mod.ts";
import { optionalMongodbConfigured } from "./mongodb.ts";
import { createReconnectingClient } from "../client/mod.ts";
import {
  createNodeMetrics,
  gatewayHandler,
  nodeHttpHandler,
  type ReadinessCheck,
  startHttpServer,
} from "../http/mod.ts";
import { VERSION } from "../version.ts";
import { resolvePath } from "../config/mod.ts";
import { LOGSTORE_TEMPLATE } from "../logstore/mod.ts";
import { loadTemplates } from "../templates/mod.ts";
import type { IplContext } from "./context.ts";
import type { StepOutcome } from "./runner.ts";

/** Why the node cannot serve now, one check per condition. */
function readinessChecks(ctx: IplContext): ReadinessCheck[] {
  return [
    () => ctx.resident ? undefined : "node is not resident (IPL running or shutdown begun)",
    () => {
      const connection = ctx.amqp?.current();
      if (!connection) return "AMQP is not connected";
      // Its replies and acks wait in the socket until the alarm clears: requests are taken, not answered.
      return connectionBlocked(connection)
        ? "RabbitMQ blocks the node's connection (a resource alarm)"
        : undefined;
    },
    () => {
      // The node serves without an optional MongoDB outside prod (its templates answer DB_UNAVAILABLE
      // until it is up), so it stays ready; beds_db_up and `beds status` say it is down.
      const optional = (store: string) => store === "mongodb" && optionalMongodbConfigured(ctx.config);
      const sick = [...ctx.adapters].filter(([store, adapter]) =>
        !optional(store) && !adapter.health().healthy
      );
      if (!sick.length) return undefined;
      return sick.map(([name, a]) => `database ${name} is unhealthy: ${JSON.stringify(a.health().detail)}`)
        .join("; ");
    },
    () => {
      const short = (ctx.pool?.status() ?? []).filter((s) =>
        s.consumers < (ctx.config.brokers[s.broker]?.instances ?? 0)
      );
      if (!short.length) return undefined;
      return short.map((s) =>
        `broker ${s.broker}: ${s.consumers} of ${ctx.config.brokers[s.broker]!.instances} consumers attached`
      ).join("; ");
    },
    () =>
      ctx.gateway && !ctx.gateway.connected()
        ? "gateway cannot take requests: no AMQP connection, RabbitMQ blocks it (a resource alarm), " +
          "or its listener failed and is starting again"
        : undefined,
  ];
}

/**
 * The names of the admin role's templates: those of `[admin] templates_dir` (the nodes of every role
 * share the config) and the log store's. Where that directory cannot be read, the shipped ones.
 */
async function adminTemplateNames(ctx: IplContext): Promise<ReadonlySet<string>> {
  const dir = resolvePath(ctx.config.configDir, ctx.config.admin.templates_dir);
  const names = await loadTemplates(dir).then((all) => all.map((t) => t.name), () => ["nst", "slg", "grf"]);
  return new Set([...names, LOGSTORE_TEMPLATE]);
}

/** Starts `/live`, `/ready` and `/metrics` and feeds the metrics from the node's events. */
export function startNodeHttp(ctx: IplContext): StepOutcome {
  const { config } = ctx;
  if (!config.http.enabled) return { detail: "disabled ([http] enabled = false)" };
  const metrics = createNodeMetrics({
    node: ctx.instance,
    role: ctx.role,
    version: VERSION,
    startedAtMs: ctx.startedAt,
    sources: {
      brokers: () => ctx.pool?.status() ?? [],
      adapters: () => [...ctx.adapters].map(([name, adapter]) => [name, adapter.health()] as const),
      amqpConnected: () => ctx.amqp?.current() !== undefined,
      logStoreDropped: () => ctx.logstore?.dropped(),
      knownTemplate: (name) => ctx.registry?.current().get(name) !== undefined,
    },
  });
  let server;
  try {
    server = startHttpServer({
      name: "http",
      host: config.http.host,
      port: config.http.port,
      logger: ctx.logger,
      handler: nodeHttpHandler({
        node: ctx.instance,
        role: ctx.role,
        checks: readinessChecks(ctx),
        metrics,
        hosts: [config.http.host, ...config.http.allowed_hosts],
      }),
    });
  } catch (error) {
    metrics.close();
    const message = `Cannot listen on ${config.http.host}:${config.http.port}: ${(error as Error).message}`;
    // Health and metrics serve operators, not requests: outside prod a taken port (a second node on a
    // developer's machine) is a warning and the node runs without them.
    if (config.env === "prod") throw new Error(message, { cause: error });
    return { detail: "off", warnings: [`${message}; no /live, /ready or /metrics`] };
  }
  ctx.sinks.push(metrics.sink);
  ctx.http = { host: server.host, port: server.port, metrics };
  ctx.logger.info({ http: { host: server.host, port: server.port } }, "http listening");
  return {
    detail: `http://${server.host}:${server.port} (/live, /ready, /metrics)`,
    undo: async () => {
      const at = ctx.sinks.indexOf(metrics.sink);
      if (at >= 0) ctx.sinks.splice(at, 1);
      ctx.http = undefined;
      metrics.close();
      await server.close();
    },
  };
}

/** Starts the gateway when the node's role sets `gateway = true` and `[gateway] enabled`. */
export async function startGateway(ctx: IplContext): Promise<StepOutcome> {
  const { config } = ctx;
  if (!config.nodes[ctx.role]?.gateway) return { detail: `role ${ctx.role} runs no gateway` };
  if (!config.gateway.enabled) return { detail: "disabled ([gateway] enabled = false)" };
  const link = createReconnectingClient({
    amqp: config.amqp,
    name: `beds gateway ${ctx.role} ${ctx.instance}`,
    logger: ctx.logger,
    // The reply is written again as the HTTP answer: a JSON column's long number must keep its digits.
    exactNumbers: true,
  });
  const adminTemplates = await adminTemplateNames(ctx);
  await link.open();
  const { host, port, timeout_ms: timeoutMs, max_body_bytes: maxBodyBytes, max_inflight: maxInflight } =
    config.gateway;
  let stopping = false;
  let server;
  try {
    server = startHttpServer({
      name: "gateway",
      host,
      port,
      logger: ctx.logger,
      // The requests it took are answered within the node's drain, as the consumers' are.
      drainMs: config.node.drain_ms,
      handler: gatewayHandler({
        stopping: () => stopping,
        adminTemplates,
        send: (body, timeoutMs, payload) => link.request(body, { timeoutMs, rawBody: payload }),
        timeoutMs,
        maxBodyBytes,
        maxInflight,
        maxForwardBytes: config.limits.max_body_bytes,
        node: ctx.instance,
        nextEvent: () => ctx.eventIds.next(),
        logger: ctx.logger,
        onAnswer: (template, op, status, seconds) =>
          ctx.http?.metrics.recordGateway(template, op, status, seconds),
      }),
    });
  } catch (error) {
    await link.close();
    throw new Error(`Cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
  const { listening, close } = server;
  // New requests are refused from here on; the ones taken have the drain to finish.
  const stop = () => {
    stopping = true;
    return close();
  };
  ctx.gateway = {
    host: server.host,
    port: server.port,
    // What /ready and `beds status` read: a gateway serves only while both its sides are up. While
    // RabbitMQ blocks its connection, every request is answered 503 at once, nothing sent.
    connected: () => link.connected() && !link.blocked() && listening(),
    close: stop,
  };
  ctx.logger.info({ gateway: { host: server.host, port: server.port } }, "gateway listening");
  return {
    detail: `http://${server.host}:${server.port}/v1/<template>/<op>, timeout ${timeoutMs} ms`,
    undo: async () => {
      ctx.gateway = undefined;
      await stop();
      await link.close();
    },
  };
}
