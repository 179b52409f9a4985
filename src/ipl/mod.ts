/**
 * IPL: ordered, named, timed steps; shutdown unwinds them in reverse.
 *
 * @example
 * ```ts
 * import { CHECK_STEPS, type IplContext, runIpl } from "./mod.ts";
 * declare const ctx: IplContext;
 * const { record, unwind } = await runIpl(CHECK_STEPS, ctx, ctx.logger);
 * await unwind();
 * console.log(record.ok);
 * ```
 *
 * @module
 */
export type { IplContext } from "./context.ts";
export {
  IplError,
  type IplRecord,
  type IplResult,
  type IplStep,
  IplStopped,
  runIpl,
  type StepOutcome,
  type StepRecord,
} from "./runner.ts";
export { CHECK_STEPS, RUN_STEPS } from "./steps.ts";
export { EXIT_CODES } from "./exit_codes.ts";
export { nodeStatus } from "./broker_pool.ts";
export { tcpReachable } from "./reachability.ts";
export { iplEvent, openLogStore } from "./logstore.ts";
export { type ReloadResult, reloadTemplates } from "./reload.ts";
export { syslogFailure } from "./admin_link.ts";
