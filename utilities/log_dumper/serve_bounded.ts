/**
 * `Deno.serve` with a bounded end, used by both a node's listeners (src/http/server.ts) and the
 * observer's (listener.ts): requests in progress get a grace period, and then every connection is
 * closed, whatever its client is doing. It lives with the observer, which imports nothing from
 * src/ (it must run while BEDS is down); src/ may import from here.
 *
 * @module
 */

/** What a listener kept up needs of a running one: what `Deno.serve` returns, and a way to end it. */
export interface Listener {
  readonly addr: Deno.NetAddr;
  /** Settles when the listener ends: rejects when accepting failed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting and waits for every connection to finish its request: for ever on a client that
   * sends half a request body and stalls.
   */
  shutdown(): Promise<void>;
  /** Stops accepting and closes every connection at once; settles as `finished`. */
  abort(): Promise<void>;
}

/** Starts one listener; throws when it cannot bind. */
export type Listen = (
  options: Deno.ServeTcpOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
) => Listener;

/**
 * Deno settles a request's `completed` once a fixed body is handed to its connection, before the
 * connection has written it: ending pauses this long, so that the last answers go out before it.
 */
const WRITE_MS = 50;

/**
 * `Deno.serve`, forced to an end by its abort signal: its graceful `shutdown()` has no time limit. The
 * signal must not fire once the server is shut down or ended: Deno would then throw from its listener
 * (a bad resource), and an error thrown there ends the process.
 */
export const denoServe: Listen = (options, handler) => {
  const controller = new AbortController();
  const server = Deno.serve({ ...options, signal: controller.signal }, handler);
  let ended = false;
  server.finished.then(() => ended = true, () => ended = true);
  return {
    addr: server.addr,
    finished: server.finished,
    shutdown: () => {
      ended = true;
      return server.shutdown();
    },
    abort: () => {
      if (!ended) controller.abort();
      ended = true;
      return server.finished;
    },
  };
};

/** The requests of a handler, counted so that a listener can be ended after them, and no later. */
export interface BoundedRequests {
  /** The handler, counting each request from its arrival until its answer was sent (or could not be). */
  tracked: Deno.ServeHandler<Deno.NetAddr>;
  /**
   * Lets requests in progress finish for up to `drainMs`, tells `onCut` how many still are (only when
   * some are), pauses for the last answers to go out, then aborts `listener`: every connection still
   * open is closed.
   */
  end(listener: Listener, drainMs: number, onCut?: (inflight: number) => void): Promise<void>;
}

/** Counts the requests `handler` is given (see {@link BoundedRequests}). */
export function boundedRequests(
  handler: (request: Request) => Response | Promise<Response>,
): BoundedRequests {
  let inflight = 0;
  let onIdle: (() => void) | undefined;
  const done = () => {
    if (--inflight === 0) onIdle?.();
  };
  const tracked: Deno.ServeHandler<Deno.NetAddr> = (request, info) => {
    inflight++;
    info.completed.then(done, done);
    return handler(request);
  };
  /** Resolves when no request is in progress, or after `ms`, with how many still are. */
  const settled = async (ms: number): Promise<number> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => inflight === 0 ? resolve() : onIdle = resolve),
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]);
    clearTimeout(timer);
    return inflight;
  };
  const end = async (listener: Listener, drainMs: number, onCut?: (inflight: number) => void) => {
    const left = await settled(drainMs);
    if (left > 0) onCut?.(left);
    await new Promise((resolve) => setTimeout(resolve, WRITE_MS));
    // A listener that already failed was shut down then, and abort() leaves it alone.
    await listener.abort().catch(() => {});
  };
  return { tracked, end };
}
