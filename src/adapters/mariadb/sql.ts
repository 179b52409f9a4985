/**
 * Pure statement builders. Identifiers come only from validated templates
 * and are quoted; values are always `?` placeholders bound by the driver.
 *
 * @module
 */
import type { OrderBy } from "../types.ts";

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

/** Quotes an identifier after validating it. */
export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`Invalid SQL identifier "${name}"`);
  return `\`${name}\``;
}

/** `schema`.`object`, both validated and quoted. */
export function qualified(schema: string, object: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(object)}`;
}

/** A statement with its bound values. */
export interface Statement {
  sql: string;
  values: unknown[];
}

/** SELECT from a view with equality/IN filters, order, limit and offset. */
export function selectView(
  schema: string,
  view: string,
  where: ReadonlyMap<string, readonly unknown[]>,
  order: readonly OrderBy[],
  limit: number,
  offset: number,
): Statement {
  const values: unknown[] = [];
  const terms: string[] = [];
  for (const [field, list] of where) {
    const column = quoteIdent(field);
    // NULL matches only `IS NULL` (`IN (NULL, …)` never does), as a null in the list does on MongoDB.
    const given = list.filter((value) => value !== null);
    const orNull = given.length < list.length;
    const match = given.length === 0
      ? `${column} IS NULL`
      : given.length === 1
      ? `${column} = ?`
      : `${column} IN (${given.map(() => "?").join(", ")})`;
    terms.push(orNull && given.length ? `(${match} OR ${column} IS NULL)` : match);
    values.push(...given);
  }
  let sql = `SELECT * FROM ${qualified(schema, view)}`;
  if (terms.length) sql += ` WHERE ${terms.join(" AND ")}`;
  if (order.length) {
    sql += ` ORDER BY ${order.map((o) => `${quoteIdent(o.field)}${o.desc ? " DESC" : ""}`).join(", ")}`;
  }
  sql += " LIMIT ? OFFSET ?";
  values.push(limit, offset);
  return { sql, values };
}

/** CALL of a procedure with one placeholder per parameter. */
export function callProcedure(schema: string, procedure: string, args: unknown[]): Statement {
  return {
    sql: `CALL ${qualified(schema, procedure)}(${args.map(() => "?").join(", ")})`,
    values: args,
  };
}

/** SELECT of a stored function's value as column `value`. */
export function selectFunction(schema: string, fn: string, args: unknown[]): Statement {
  return {
    sql: `SELECT ${qualified(schema, fn)}(${args.map(() => "?").join(", ")}) AS \`value\``,
    values: args,
  };
}
