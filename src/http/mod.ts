/**
 * HTTP: each node's health and metrics endpoints, and the gateway that
 * turns `POST /v1/<template>/<op>` into an AMQP request.
 *
 * @example
 * ```ts
 * import { httpStatusOf } from "./mod.ts";
 * console.log(httpStatusOf("NOT_FOUND")); // 404
 * ```
 *
 * @module
 */
export {
  type HttpServer,
  type HttpServerOptions,
  type Listen,
  type Listener,
  listenerRestartDelay,
  startHttpServer,
} from "./server.ts";
export {
  evaluateReadiness,
  nodeHttpHandler,
  type NodeHttpOptions,
  type Readiness,
  type ReadinessCheck,
} from "./health.ts";
export {
  type BrokerGauges,
  createNodeMetrics,
  type MetricsSources,
  type NodeMetrics,
  type NodeMetricsOptions,
} from "./metrics.ts";
export { hostAllowed } from "./host_check.ts";
export { gatewayHandler, type GatewayOptions, type GatewaySend } from "./gateway.ts";
export { httpStatusOf } from "./status_codes.ts";
export { type LagSampler, startLagSampler } from "./lag.ts";
