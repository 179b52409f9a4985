/**
 * A small HTTP listener on Deno's native server, shared by the health and
 * metrics endpoints and by the gateway. A handler that throws is answered
 * 500 without taking the listener down.
 *
 * @module
 */
import type { Logger } from "../logging/mod.ts";

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
}

/** A running listener. */
export interface HttpServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly host: string;
  /** Stops accepting, lets responses in progress finish, and closes. */
  close(): Promise<void>;
}

/** Starts listening at once; a bind failure (port in use) throws. */
export function startHttpServer(options: HttpServerOptions): HttpServer {
  const { logger, name } = options;
  const host = options.host ?? "127.0.0.1";
  const server = Deno.serve({
    hostname: host,
    port: options.port,
    onListen: () => {},
    onError: (error) => {
      logger.error({ http: name, err: (error as Error)?.message }, "http handler failed");
      return new Response("Internal error\n", { status: 500 });
    },
  }, options.handler);
  const port = server.addr.port;
  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    close: () => closing ??= server.shutdown(),
  };
}
