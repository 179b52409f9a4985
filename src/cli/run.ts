/**
 * `beds run --node NAME`: IPL for the node role, then serve until asked to
 * stop; then drain in-flight requests, unwind and exit 0.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import { parse } from "./args.ts";
import { bootNode } from "./node.ts";
import { RUN_STEPS } from "../ipl/mod.ts";

/** Usage of `beds run`. */
export const RUN_USAGE = "beds run [--node NAME] [--instance ID] [--config DIR] [--env ENV]";

/** Runs a node until `io.signal` aborts or its AMQP connection is lost. */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { node: { type: "string" }, instance: { type: "string" } }, false);
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const boot = await bootNode({ values, steps: RUN_STEPS, logFd: 1 }, io);
  if (!boot.ok) {
    io.err(`beds: IPL failed at ${boot.message}`);
    return boot.exitCode;
  }
  const { ctx, ipl } = boot;
  const { logger } = ctx;
  logger.info({ ipl: ipl.record }, "resident");

  let exitCode = 0;
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) return resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
    ctx.connection!.on("close", (error?: Error) => {
      if (io.signal.aborted) return;
      logger.fatal({ err: error?.message }, "amqp connection lost");
      exitCode = 1;
      resolve();
    });
  });

  const drainMs = ctx.config.node.drain_ms;
  logger.info({ drainMs }, "shutdown: stop consuming, draining in-flight requests");
  await ctx.pool?.stop(drainMs);
  await ipl.unwind();
  logger.info({ exitCode }, "shutdown complete");
  return exitCode;
}
