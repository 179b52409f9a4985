/**
 * Maps MariaDB driver errors to wire errors. Procedures signal outcomes with
 * SQLSTATE: `45404` → NOT_FOUND, `45409` → CONFLICT, any other `45xxx` →
 * VALIDATION (the MESSAGE_TEXT becomes the reply message). A value compared with a column whose
 * character set cannot hold some of its characters (an emoji against a latin1 column) is VALIDATION
 * too, as the same value given to a latin1 parameter is.
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
/** 1118: a row the values make larger than InnoDB keeps in a page (the table allows it, they do not fit). */
const VALIDATION_ERRNO = new Set([1048, 1118, 1264, 1265, 1292, 1366, 1406, 3819, 4025]);
/** Illegal mix of collations of 2, 3 and more operands (ER_CANT_AGGREGATE_2/3/NCOLLATIONS). */
const COLLATION_MIX_ERRNO = new Set([1267, 1270, 1271]);
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
  const mixed = e.errno !== undefined && COLLATION_MIX_ERRNO.has(e.errno)
    ? valueMixMessage(e.errno, message)
    : undefined;
  if (mixed) return new BedsError("VALIDATION", mixed, { cause: error, details: { errno: e.errno } });
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

/**
 * The reply message of an illegal mix of collations that a value caused, or undefined when none
 * did. A bound value is COERCIBLE and a column IMPLICIT; a value is converted to the column's
 * character set unless it has characters that set lacks, and only then is refused so. Two columns
 * of a view or procedure that do not mix (both IMPLICIT) are the schema's fault: they stay
 * DB_ERROR. The message of four operands or more (1271) names none; in BEDS's own statements that
 * is a `where` list of three values or more against one column.
 */
function valueMixMessage(errno: number, message: string): string | undefined {
  const operands = [...message.matchAll(/\(([A-Za-z0-9_]+),([A-Z]+)\)/g)]
    .map(([, collation, derivation]) => ({ collation: collation!, derivation }));
  if (errno !== 1271 && !operands.some((o) => o.derivation === "COERCIBLE")) return undefined;
  // A collation's name starts with its character set's, which has no '_' (latin1_swedish_ci).
  const charset = operands.find((o) => o.derivation !== "COERCIBLE")?.collation.split("_")[0];
  const named = charset ? ` (${charset})` : "";
  return `A value has characters that the column's character set${named} cannot hold`;
}
