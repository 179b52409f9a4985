/**
 * The MariaDB adapter: dedicated pipelined connections, views and stored
 * routines called by name with bound values, errors mapped to wire codes;
 * and the DDL generator that drafts those objects from a template.
 *
 * @module
 */
export { createMariadbAdapter, type MariadbAdapter, type MariadbAdapterOptions } from "./adapter.ts";
export { mapMariadbError } from "./errors.ts";
export { generateMariadbDdl, type MariadbDdl } from "./ddl.ts";
export { callProcedure, quoteIdent, selectFunction, selectView } from "./sql.ts";
