/**
 * Store adapters behind one CRUD interface. Driver imports live only in the
 * adapter folders.
 *
 * @example
 * ```ts
 * import type { Adapter } from "./mod.ts";
 * const stores = (adapters: Adapter[]) => adapters.map((a) => a.store);
 * ```
 *
 * @module
 */
export type {
  Adapter,
  AdapterHealth,
  AdapterResult,
  CallInput,
  OrderBy,
  ReadInput,
  TransactionScope,
  Values,
  VerifyProblem,
  WriteInput,
} from "./types.ts";
export { createMariadbAdapter, mapMariadbError, type MariadbAdapter } from "./mariadb/mod.ts";
