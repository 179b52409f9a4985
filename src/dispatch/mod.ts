/**
 * Dispatch: the transport-free core of the request path.
 *
 * @example
 * ```ts
 * import { dispatch, type DispatchDeps } from "./mod.ts";
 * declare const deps: DispatchDeps;
 * const run = (body: Parameters<typeof dispatch>[0]) => dispatch(body, new Set(["read"]), deps);
 * ```
 *
 * @module
 */
export { dispatch, type DispatchContext, type DispatchDeps, type DispatchResult } from "./dispatch.ts";
export { checkRelInput, FanOutError, type FanOutResult, type PartRecord, runFanOut } from "./fanout.ts";
export { callValues, readInput, writeValues } from "./inputs.ts";
export { runTransaction, type StepResult } from "./transaction.ts";
export {
  type AccessPolicy,
  type AccessPolicyOptions,
  createAccessPolicy,
  createReloadableAccessPolicy,
  grantMatches,
  type ReloadableAccessPolicy,
  replayRefusal,
  requesterOf,
} from "./access.ts";
