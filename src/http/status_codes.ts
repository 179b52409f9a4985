/**
 * The HTTP status of a gateway answer, from the reply's wire error code
 * (the table is in docs/protocol.md §12).
 *
 * @module
 */
import type { ErrorCode } from "../errors.ts";

const STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  VALIDATION: 400,
  FORBIDDEN: 403,
  UNKNOWN_TEMPLATE: 404,
  NOT_FOUND: 404,
  OP_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_LARGE: 413,
  INTERNAL: 500,
  DB_ERROR: 500,
  DB_UNAVAILABLE: 503,
  OVERLOADED: 503,
  DEADLINE_EXCEEDED: 504,
};

/** HTTP status for a reply: 200 when `code` is undefined (ok), 500 for a code outside the set. */
export function httpStatusOf(code: string | undefined): number {
  if (code === undefined) return 200;
  return Object.hasOwn(STATUS, code) ? STATUS[code as ErrorCode] : 500;
}
