/**
 * The HTTP gateway: `POST /v1/<template>/<op>` with the rest of the request
 * body as JSON (key, data, where, limit, offset, order, call, event) becomes
 * the same AMQP request a BedsClient sends. The answer is the reply body,
 * with an HTTP status mapped from its error code (docs/protocol.md §12).
 * Browsers are refused (an `Origin` header, a body not typed JSON), so no
 * web page the operator opens can send requests through it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { BedsClientError, type RequestBody } from "../client/mod.ts";
import { BedsError, type ErrorBody, type ErrorCode, toErrorBody } from "../errors.ts";
import type { Logger } from "../logging/mod.ts";
import { checkRequest, type Reply } from "../protocol/mod.ts";
import { HttpError, parseBody, pathOf, readBody, refuseBrowsers } from "./gateway_request.ts";
import { httpStatusOf } from "./status_codes.ts";

/**
 * Sends one request over AMQP and resolves with the node's reply: `payload` is the body as it goes
 * on the wire (`body` with its deadline), encoded once by the gateway, which checked its size.
 */
export type GatewaySend = (body: RequestBody, timeoutMs: number, payload: Uint8Array) => Promise<Reply>;

/** Options for {@link gatewayHandler}. */
export interface GatewayOptions {
  send: GatewaySend;
  /**
   * The admin role's templates (fleet status, system log, graphs, the log store), refused 403: the
   * gateway publishes as the nodes' user, who holds their grants, so an HTTP caller would write
   * them as a node, where a role serves them on its data brokers too.
   */
  adminTemplates?: ReadonlySet<string>;
  /** Time to wait for the request's body, and then for its reply; also the request's deadline. */
  timeoutMs: number;
  maxBodyBytes: number;
  /**
   * The nodes' body limit (`[limits] max_body_bytes`), checked on the request as it is sent: a body
   * the gateway took can grow when re-encoded (`1e9` becomes `1000000000`) and gains a deadline.
   */
  maxForwardBytes?: number;
  /**
   * Requests taken at most at once, from their first byte to their answer: past it a request is
   * answered 503 OVERLOADED at once, so a stalled node or a flood of clients cannot make the
   * gateway hold every request (and its body) until it runs out of memory.
   */
  maxInflight?: number;
  /**
   * True once the node shuts down: a request is then answered 503 OVERLOADED at once, nothing sent,
   * since the consumers are stopping and it could wait in a queue until its timeout.
   */
  stopping?: () => boolean;
  /** This node's instance id, in the meta of answers the gateway makes itself. */
  node: string;
  /** A new event id for answers the gateway makes itself. */
  nextEvent: () => string;
  logger: Logger;
  /** Sees every answer (metrics). Template and op are `_none` when the path was invalid. */
  onAnswer?: (template: string, op: string, status: number, seconds: number) => void;
}

const ROUTE = /^\/v1\/([^/]+)\/([^/]+)\/?$/;

/**
 * The request as the nodes get it, with its deadline, as a client's `request()` would encode it.
 * @throws {BedsError} TOO_LARGE (with nothing sent) for one the nodes would refuse, and dead-letter,
 * for its size.
 */
function encodeRequest(request: RequestBody, timeoutMs: number, limit: number | undefined): Uint8Array {
  const payload = Buffer.from(JSON.stringify({ deadline_ms: Date.now() + timeoutMs, ...request }));
  if (limit !== undefined && payload.byteLength > limit) {
    throw new BedsError(
      "TOO_LARGE",
      `Request of ${payload.byteLength} bytes as sent to the nodes exceeds their limit of ${limit}`,
      { details: { limit, size: payload.byteLength } },
    );
  }
  return payload;
}

/** The request handler of the gateway listener. */
export function gatewayHandler(options: GatewayOptions): (request: Request) => Promise<Response> {
  const { logger } = options;
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  const failure = (error: ErrorBody, started: number) => ({
    ok: false,
    error,
    meta: {
      event: options.nextEvent(),
      node: options.node,
      broker: "gateway",
      ms: elapsed(started),
      rows: 0,
    },
  });

  const maxInflight = options.maxInflight ?? Infinity;
  let inflight = 0;

  return async (request) => {
    const started = performance.now();
    let template = "_none";
    let op = "_none";
    let status: number;
    let response: Response;
    inflight++;
    try {
      if (options.stopping?.()) {
        throw new HttpError(503, "OVERLOADED", "The gateway is shutting down; send the request to another", {
          "retry-after": "1",
        });
      }
      if (inflight > maxInflight) {
        throw new HttpError(
          503,
          "OVERLOADED",
          `The gateway has ${maxInflight} requests in flight; try again`,
          {
            "retry-after": "1",
          },
        );
      }
      const match = ROUTE.exec(pathOf(request));
      if (!match) {
        throw new HttpError(404, "NOT_FOUND", "No such endpoint: use POST /v1/<template>/<op>");
      }
      if (request.method !== "POST") {
        throw new HttpError(405, "BAD_REQUEST", `Method ${request.method} not allowed: use POST`, {
          allow: "POST",
        });
      }
      refuseBrowsers(request);
      const body = parseBody(await readBody(request, options.maxBodyBytes, options.timeoutMs));
      const checked = checkRequest({ ...body, template: safeDecode(match[1]!), op: safeDecode(match[2]!) });
      template = checked.template;
      op = checked.op;
      if (options.adminTemplates?.has(template)) {
        throw new HttpError(
          403,
          "FORBIDDEN",
          `Template "${template}" is the admin role's: not served through the gateway`,
        );
      }
      const payload = encodeRequest(checked as RequestBody, options.timeoutMs, options.maxForwardBytes);
      const reply = await options.send(checked as RequestBody, options.timeoutMs, payload);
      status = reply.ok ? 200 : httpStatusOf(reply.error.code);
      if (!reply.ok && reply.error.code === "UNKNOWN_TEMPLATE") template = "_unknown";
      response = answer(status, reply, reply.ok ? {} : headersOf(reply.error.code));
    } catch (error) {
      const failed = gatewayFailure(error, options.timeoutMs);
      if (failed.code === "UNKNOWN_TEMPLATE") template = "_unknown";
      status = failed.status;
      if (failed.code === "INTERNAL") logger.error({ err: error, template, op }, "gateway request failed");
      const body = error instanceof BedsError
        ? toErrorBody(error)
        : { code: failed.code, message: failed.message };
      response = answer(status, failure(body, started), failed.headers);
    } finally {
      inflight--;
    }
    options.onAnswer?.(template, op, status, (performance.now() - started) / 1000);
    return response;
  };
}

/**
 * Headers an answer needs for its status: a 405 for an op the template does not allow says (with
 * an empty `Allow`) that no method would do, as RFC 9110 has a 405 name the methods allowed.
 */
function headersOf(code: ErrorCode): Record<string, string> {
  return code === "OP_NOT_ALLOWED" ? { allow: "" } : {};
}

interface Failure {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** The HTTP status, wire code and message for a request that got no reply. */
function gatewayFailure(error: unknown, timeoutMs: number): Failure {
  if (error instanceof HttpError) {
    return { status: error.status, code: error.code, message: error.message, headers: error.headers };
  }
  if (error instanceof BedsError) {
    return {
      status: httpStatusOf(error.code),
      code: error.code,
      message: error.message,
      headers: headersOf(error.code),
    };
  }
  if (error instanceof BedsClientError) {
    if (error.kind === "DISCONNECTED") {
      return { status: 503, code: "OVERLOADED", message: error.message, headers: { "retry-after": "1" } };
    }
    if (error.kind === "TIMEOUT") {
      return { status: 504, code: "DEADLINE_EXCEEDED", message: `No reply within ${timeoutMs} ms` };
    }
    if (error.kind === "UNROUTABLE") {
      return { status: 404, code: "UNKNOWN_TEMPLATE", message: `${error.message}: no broker serves it` };
    }
    return {
      status: 502,
      code: "INTERNAL",
      message: "Connection to RabbitMQ lost before the reply came; the request may have run",
    };
  }
  return { status: 500, code: "INTERNAL", message: "Internal error" };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Milliseconds since `started`, to 3 decimals as a node's `meta.ms` (docs/protocol.md §4). */
function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
