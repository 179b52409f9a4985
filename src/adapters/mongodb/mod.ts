/**
 * The MongoDB adapter: CRUD on the collection a template names, documents
 * identified by the template's key, filters and writes limited to declared
 * fields with operator-free values, replies limited to the template's fields
 * in the MariaDB adapter's form, driver errors mapped to wire codes.
 *
 * @module
 */
export { createMongodbAdapter, type MongodbAdapter, type MongodbAdapterOptions } from "./adapter.ts";
export { mapMongoError } from "./errors.ts";
export {
  assertFieldName,
  assertScalar,
  documentOf,
  identityOf,
  keyFilter,
  readFilter,
  sortOf,
} from "./filters.ts";
export { plainDocument } from "./replies.ts";
export { verifyCollections } from "./verify.ts";
