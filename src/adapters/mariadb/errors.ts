/**
 * Maps MariaDB driver errors to wire errors. Procedures signal outcomes with
 * SQLSTATE: `45404` → NOT_FOUND, `45409` → CONFLICT, any other `45xxx` →
 * VALIDATION (the MESSAGE_TEXT becomes the reply message).
 *
 * @module
 */
import { BedsError } from "../../errors.ts";

/** The fields of a mariadb `SqlError` this module reads. */
export interface SqlErrorLike {
  errno?: number;
  sqlState?: string | null;
  code?: string;
  fatal?: boolean;
  sqlMessage?: string | null;
  text?: string | null;
}

const CONFLICT_ERRNO = new Set([1062, 1451, 1452, 1586]);
const VALIDATION_ERRNO = new Set([1048, 1264, 1265, 1292, 1366, 1406, 3819, 4025]);
const TRANSIENT_ERRNO = new Set([1205, 1213, 1040, 1203, 2006, 2013, 1927, 1053, 1969]);
const UNAVAILABLE_CODES =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ER_CONNECTION_TIMEOUT|ER_SOCKET_.*|ER_CMD_CONNECTION_CLOSED|ER_CONNECTION_ALREADY_CLOSED|ER_POOL_.*|ER_GET_CONNECTION_TIMEOUT|ER_CLOSING_POOL)$/;

/** What a statement gets once the shutdown aborted the node's statements (`abortInflight`). */
export function nodeStopping(): BedsError {
  return new BedsError("DB_UNAVAILABLE", "The node is stopping; try again");
}

/** Converts any error thrown by the driver into a {@link BedsError}. */
export function mapMariadbError(error: unknown): BedsError {
  if (error instanceof BedsError) return error;
  const e = (error ?? {}) as SqlErrorLike;
  const message = e.sqlMessage ?? e.text ?? "";
  const state = e.sqlState ?? "";
  if (state.startsWith("45")) {
    const code = state === "45404" ? "NOT_FOUND" : state === "45409" ? "CONFLICT" : "VALIDATION";
    return new BedsError(code, message || "Rejected by the database", { cause: error });
  }
  if (e.errno !== undefined && CONFLICT_ERRNO.has(e.errno)) {
    return new BedsError("CONFLICT", conflictMessage(e.errno, message), { cause: error });
  }
  if (e.errno !== undefined && VALIDATION_ERRNO.has(e.errno)) {
    return new BedsError("VALIDATION", `Value rejected by the database: ${message}`, {
      cause: error,
      details: { errno: e.errno },
    });
  }
  if (
    (e.errno !== undefined && TRANSIENT_ERRNO.has(e.errno)) || e.fatal ||
    (e.code !== undefined && UNAVAILABLE_CODES.test(e.code))
  ) {
    return new BedsError("DB_UNAVAILABLE", "Database unavailable; try again", {
      cause: error,
      details: { errno: e.errno, reason: e.code },
    });
  }
  return new BedsError("DB_ERROR", "Database error", {
    cause: error,
    details: { errno: e.errno, sqlState: state || undefined },
  });
}

function conflictMessage(errno: number, message: string): string {
  if (errno === 1062) {
    const key = /for key '([^']+)'/.exec(message)?.[1];
    return key ? `Duplicate value for unique key "${key}"` : "Duplicate value";
  }
  return "Conflicts with related rows";
}
