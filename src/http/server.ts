/**
 * A small HTTP listener on Deno's native server, shared by the health and
 * metrics endpoints and by the gateway. A handler that throws is answered
 * 500 without taking the listener down, and a listener that fails (accept
 * failing with EMFILE when idle connections use up the file descriptors)
 * is logged and started again on the same address, never ending the node.
 * Closing is bounded: requests in progress get a grace period, and then
 * every connection is closed, whatever its client is doing.
 *
 * @module
 */
import { backoffDelay } from "../amqp/mod.ts";
import type { Logger } from "../logging/mod.ts";
import {
  boundedRequests,
  denoServe,
  type Listen,
  type Listener,
} from "../../utilities/log_dumper/serve_bounded.ts";

/** The listener {@link startHttpServer} runs: defined in serve_bounded.ts, which the observer's uses too. */
export type { Listen, Listener };

/** Options for {@link startHttpServer}. */
export interface HttpServerOptions {
  /** What the listener is for, in logs ("http", "gateway"). */
  name: string;
  /** Address to bind. @default "127.0.0.1" */
  host?: string;
  /** Port to bind; 0 takes any free port. */
  port: number;
  handler: (request: Request) => Response | Promise<Response>;
  logger: Logger;
  /** Wait before the n-th start again (0-based) of a failed listener. @default listenerRestartDelay */
  restartDelayMs?: (attempt: number) => number;
  /** Starts a listener; tests pass one that fails. @default Deno.serve */
  listen?: Listen;
  /**
   * How long `close()` lets requests in progress finish (their answers sent) before it closes their
   * connections. @default 1000
   */
  drainMs?: number;
}

/** A running listener. */
export interface HttpServer {
  /** The bound port (the real one when 0 was asked for); a listener started again keeps it. */
  readonly port: number;
  readonly host: string;
  /** False from a failure of the listener until it has been started again. */
  listening(): boolean;
  /**
   * Ends any start again, lets requests in progress finish for up to `drainMs` (new ones are still
   * handled meanwhile), then closes the listener and every connection still open.
   */
  close(): Promise<void>;
}

/** A listener that stayed up this long before failing starts its backoff over. */
const HEALTHY_MS = 60_000;

/**
 * Milliseconds before the `attempt`-th (0-based) start again of a failed listener: about 100 ms
 * doubling to at most 5 s, with jitter as the AMQP reconnects have. Short, since the listener is
 * down meanwhile: when idle connections used up the descriptors, shutting it down freed them, and
 * waiting longer would only lengthen the outage a flood of connections causes; a cause that
 * persists costs a line every 5 s at most.
 */
export function listenerRestartDelay(attempt: number, random: () => number = Math.random): number {
  return backoffDelay(attempt, { initialMs: 100, maxMs: 5_000, random });
}

/** How long `close()` waits for requests in progress by default: what a health check or a scrape takes. */
const DRAIN_MS = 1_000;

/** Starts listening at once; a bind failure (port in use) throws. */
export function startHttpServer(options: HttpServerOptions): HttpServer {
  const { logger, name } = options;
  const host = options.host ?? "127.0.0.1";
  const listen = options.listen ?? denoServe;
  const delayOf = options.restartDelayMs ?? ((attempt: number) => listenerRestartDelay(attempt));
  const drainMs = options.drainMs ?? DRAIN_MS;
  const { tracked, end } = boundedRequests(options.handler);
  const start = (port: number) =>
    listen({
      hostname: host,
      port,
      onListen: () => {},
      onError: (error) => {
        logger.error({ http: name, err: (error as Error)?.message }, "http handler failed");
        return new Response("Internal error\n", { status: 500 });
      },
    }, tracked);

  let current = start(options.port);
  // A listener started again binds the port the first one got, so the address reported stays true.
  const port = current.addr.port;
  let up = true;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = () => {
    const delayMs = delayOf(failures++);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      try {
        current = start(port);
      } catch (error) {
        // Logged with the wait retry() draws, not another draw of the jittered delay.
        const retryMs = retry();
        logger.error({ http: name, err: (error as Error)?.message, retryMs }, "http listener start failed");
        return;
      }
      up = true;
      logger.warn({ http: name, host, port, attempt: failures }, "http listener started again");
      watch(current);
    }, delayMs);
    return delayMs;
  };

  // Left alone, a rejected `finished` is an unhandled rejection, and Deno ends the process on it.
  const watch = (listener: Listener) => {
    const since = Date.now();
    const ended = (error?: unknown) => {
      if (stopped) return;
      up = false;
      if (Date.now() - since >= HEALTHY_MS) failures = 0;
      // Release whatever the failed listener still holds before binding its port again.
      listener.shutdown().catch(() => {});
      const retryMs = retry();
      logger.error(
        { http: name, host, port, err: (error as Error)?.message ?? "ended on its own", retryMs },
        "http listener failed; starting it again",
      );
    };
    listener.finished.then(() => ended(), ended);
  };
  watch(current);

  // Not Deno's graceful shutdown: a client that never finishes its request would hold it for ever.
  const close = async () => {
    stopped = true;
    up = false;
    clearTimeout(timer);
    await end(current, drainMs, (inflight) =>
      logger.warn(
        { http: name, inflight, drainMs },
        "http requests still in progress; closing their connections",
      ));
  };
  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    listening: () => up,
    close: () => closing ??= close(),
  };
}
