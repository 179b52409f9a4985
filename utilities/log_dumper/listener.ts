/**
 * The observer's listener, kept up: when accepting fails (EMFILE once idle
 * connections use up the file descriptors) `Deno.serve`'s `finished`
 * rejects, which unhandled ends the process. Here the failure is logged and
 * the listener started again on the same address with a capped backoff, as
 * src/http/server.ts does for a node (the observer imports nothing from src/;
 * the bounded stop both use is serve_bounded.ts).
 *
 * @module
 */
import { boundedRequests, denoServe, type Listen, type Listener } from "./serve_bounded.ts";

export type { Listen, Listener };

/** Options for {@link serveKeptUp}. */
export interface KeptUpOptions {
  hostname: string;
  /** 0 takes any free port; a listener started again binds the one first taken. */
  port: number;
  handler: (request: Request) => Response | Promise<Response>;
  /** Called once, when the first listener is bound. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Where a failure and the start again after it are reported. @default console.error */
  log?: (line: string) => void;
  /** Wait before the n-th start again (0-based). @default restartDelay */
  restartDelayMs?: (attempt: number) => number;
  /** Starts a listener; tests pass one that fails. @default Deno.serve */
  listen?: Listen;
  /** How long `stop()` lets requests in progress finish before it closes their connections. @default 1000 */
  drainMs?: number;
}

/** A listener that is started again when it fails. */
export interface KeptUp {
  readonly addr: Deno.NetAddr;
  /** Resolves once {@link KeptUp.stop} has closed the listener. */
  readonly stopped: Promise<void>;
  /**
   * Ends any start again, lets requests in progress finish for up to `drainMs`, then closes the
   * listener and every connection still open, whatever its client is doing.
   */
  stop(): Promise<void>;
}

/** A listener that stayed up this long before failing starts its backoff over. */
const HEALTHY_MS = 60_000;

/** 100 ms doubling to at most 30 s: a cause that persists costs a line every 30 s. */
export function restartDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt), 30_000);
}

/** Starts listening at once (a bind failure throws) and starts the listener again whenever it fails. */
export function serveKeptUp(options: KeptUpOptions): KeptUp {
  const log = options.log ?? ((line: string) => console.error(line));
  const delayOf = options.restartDelayMs ?? restartDelay;
  const listen = options.listen ?? denoServe;
  const { tracked, end } = boundedRequests(options.handler);
  const start = (port: number) => listen({ hostname: options.hostname, port, onListen: () => {} }, tracked);

  let current = start(options.port);
  const addr = current.addr;
  options.onListen?.(addr);
  let stopping = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped!: () => void;
  const whenStopped = new Promise<void>((resolve) => stopped = resolve);

  const retry = (): number => {
    const delayMs = delayOf(failures++);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopping) return;
      try {
        current = start(addr.port);
      } catch (error) {
        log(`observer listener failed to start again: ${(error as Error)?.message}`);
        retry();
        return;
      }
      log(`observer listener started again on http://${addr.hostname}:${addr.port}/`);
      watch(current);
    }, delayMs);
    return delayMs;
  };

  // Left alone, a rejected `finished` is an unhandled rejection, and Deno ends the process on it.
  const watch = (listener: Listener) => {
    const since = Date.now();
    const ended = (error?: unknown) => {
      if (stopping) return;
      if (Date.now() - since >= HEALTHY_MS) failures = 0;
      listener.shutdown().catch(() => {});
      const delayMs = retry();
      const why = (error as Error)?.message ?? "ended on its own";
      log(`observer listener failed: ${why}; starting it again in ${delayMs} ms`);
    };
    listener.finished.then(() => ended(), ended);
  };
  watch(current);

  let stopCall: Promise<void> | undefined;
  return {
    addr,
    stopped: whenStopped,
    stop: () =>
      stopCall ??= (async () => {
        stopping = true;
        clearTimeout(timer);
        await end(current, options.drainMs ?? 1_000);
        stopped();
      })(),
  };
}
