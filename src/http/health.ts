/**
 * The node's own endpoints: `GET /live` (the process answers), `GET /ready`
 * (it can serve requests now) and `GET /metrics` (Prometheus text), for a
 * `Host` that is an IP literal, `localhost` or the bind host (host_check.ts).
 *
 * @module
 */
import { misdirected } from "./host_check.ts";
import type { NodeMetrics } from "./metrics.ts";

/** One readiness condition: a reason the node is not ready, or undefined when it is. */
export type ReadinessCheck = () => string | undefined;

/** What `/ready` answers. */
export interface Readiness {
  ready: boolean;
  /** Why the node is not ready (empty when it is). */
  reasons: string[];
}

/** Runs every check; a check that throws counts as not ready. */
export function evaluateReadiness(checks: readonly ReadinessCheck[]): Readiness {
  const reasons: string[] = [];
  for (const check of checks) {
    try {
      const reason = check();
      if (reason !== undefined) reasons.push(reason);
    } catch (error) {
      reasons.push(`readiness check failed: ${(error as Error).message}`);
    }
  }
  return { ready: reasons.length === 0, reasons };
}

/** Options for {@link nodeHttpHandler}. */
export interface NodeHttpOptions {
  node: string;
  role: string;
  checks: readonly ReadinessCheck[];
  metrics: NodeMetrics;
  /**
   * Names a request's `Host` may carry besides IP literals and `localhost`: the listener's bind host.
   * @default []
   */
  hosts?: readonly string[];
}

const NO_STORE = { "cache-control": "no-store" };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { ...NO_STORE, "content-type": "application/json" },
  });
}

/** The request handler of the node's HTTP listener. */
export function nodeHttpHandler(options: NodeHttpOptions): (request: Request) => Promise<Response> {
  const { node, role } = options;
  return async (request) => {
    const refused = misdirected(request, options.hosts);
    if (refused) return refused;
    const path = new URL(request.url).pathname;
    const route = path === "/live" || path === "/ready" || path === "/metrics";
    if (!route) return json(404, { error: `No endpoint "${path}": try /live, /ready or /metrics` });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (path === "/live") return json(200, { live: true, node, role });
    if (path === "/ready") {
      const { ready, reasons } = evaluateReadiness(options.checks);
      return json(ready ? 200 : 503, ready ? { ready, node, role } : { ready, node, role, reasons });
    }
    const text = await options.metrics.render();
    return new Response(text, { headers: { ...NO_STORE, "content-type": options.metrics.contentType } });
  };
}
