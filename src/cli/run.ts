/**
 * `beds run --node NAME`: IPL for the node role, then serve until SIGINT,
 * SIGTERM or an admin `shutdown` command; then stop consuming, drain
 * in-flight requests (replies are published), unwind and exit 0.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import { parse } from "./args.ts";
import { bootNode } from "./node.ts";
import { iplEvent, reloadTemplates, RUN_STEPS } from "../ipl/mod.ts";
import { fanOut } from "../logstore/mod.ts";

/** Usage of `beds run`. */
export const RUN_USAGE = "beds run [--node NAME] [--instance ID] [--config DIR] [--env ENV]";

/** Runs a node until `io.signal` aborts or an admin shutdown arrives. */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { node: { type: "string" }, instance: { type: "string" } }, false);
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  io.handleSignals?.();
  let requestStop = () => {};
  const stopped = new Promise<void>((resolve) => {
    requestStop = resolve;
    if (io.signal.aborted) resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  // Listen for SIGHUP from the start: an unhandled SIGHUP would end the process.
  // A reload asked for before the node is resident waits until it is.
  const reload: { run?: () => void; pending: boolean } = { pending: false };
  io.onReload?.(() => reload.run ? reload.run() : reload.pending = true);
  // A signal during start-up stops it between steps: a node told to stop takes no work.
  const boot = await bootNode(
    { values, steps: RUN_STEPS, logFd: 1, requestStop, recordFailure: true, stop: io.signal },
    io,
  );
  if (!boot.ok && boot.stopped) {
    io.err(`beds: ${boot.message}: a signal came during start-up; nothing was left running`);
    return boot.exitCode;
  }
  if (!boot.ok) {
    io.err(`beds: IPL failed at ${boot.message}`);
    return boot.exitCode;
  }
  const { ctx, ipl } = boot;
  const { logger } = ctx;
  reload.run = () => void reloadTemplates(ctx);
  if (reload.pending) reload.run();
  ctx.resident = true;
  logger.info({ ipl: ipl.record }, "resident");
  fanOut(ctx.sinks).emit(iplEvent(ctx, ipl.record));
  await stopped;
  ctx.resident = false; // /ready answers 503 from here on, so balancers stop sending work

  const drainMs = ctx.config.node.drain_ms;
  logger.info({ drainMs }, "shutdown: stop consuming, draining in-flight requests");
  // Both at once, each bounded by the drain: the consumers take nothing more from here on, and the
  // gateway refuses new requests (one sent now could wait in a queue no one reads until its timeout)
  // while those it took are answered by the consumers draining, or by another node of the role.
  await Promise.all([ctx.gateway?.close(), ctx.pool?.stop(drainMs)]);
  await ipl.unwind();
  logger.info("shutdown complete");
  return 0;
}
