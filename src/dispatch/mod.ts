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
export { dispatch, type DispatchDeps } from "./dispatch.ts";
export { callValues, readInput, writeValues } from "./inputs.ts";
