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
  VerifyOptions,
  VerifyProblem,
  WriteInput,
} from "./types.ts";
export {
  createMariadbAdapter,
  generateMariadbDdl,
  mapMariadbError,
  type MariadbAdapter,
  type MariadbDdl,
} from "./mariadb/mod.ts";
export {
  createMongodbAdapter,
  mapMongoError,
  type MongodbAdapter,
  type MongodbAdapterOptions,
} from "./mongodb/mod.ts";
