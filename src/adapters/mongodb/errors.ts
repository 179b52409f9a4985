/**
 * Maps MongoDB driver errors to wire errors: a duplicate key (11000) is
 * CONFLICT, a document the collection's validator rejects (121) is
 * VALIDATION, a write whose write concern failed is DB_ERROR (applied on the
 * primary: never retried), a lost, unreachable or overloaded server, a lock
 * wait or an operation past `query_timeout_ms` is DB_UNAVAILABLE (so writes
 * are retried), as for MariaDB, anything else DB_ERROR. Pure: it reads only
 * names, codes and labels, so it needs no driver import.
 *
 * @module
 */
import { BedsError } from "../../errors.ts";

/** The fields of a driver error this module reads. */
export interface MongoErrorLike {
  name?: string;
  code?: number | string;
  codeName?: string;
  errmsg?: string;
  message?: string;
  keyPattern?: Record<string, unknown>;
  errorLabels?: readonly string[];
}

/** Driver error classes meaning "the server cannot be reached now" (subclasses count too). */
const UNAVAILABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  // The node's close() ended what still waited: as MariaDB's statements aborted by the shutdown.
  "MongoPoolClosedError",
  "MongoClientClosedError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
  "MongoServerClosedError",
  "MongoOperationTimeoutError",
  "MongoWaitQueueTimeoutError",
]);

/** Server codes of a replica set in transition, a shutdown, a lock wait or a time limit. */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout: as MariaDB's lock wait timeout (1205)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const DUPLICATE_CODES = new Set([11000, 11001]);

/** 121 DocumentValidationFailure; 52, 56, 57: `$`-prefixed, empty or dotted field names. */
const VALIDATION_CODES = new Set([121, 52, 56, 57]);

/**
 * Labels (the driver's `MongoErrorLabel`) of errors the server or the driver says are safe to
 * retry. `RetryableError` comes with `SystemOverloadedError` on a request the server refused
 * unrun: as MariaDB's too many connections (1040).
 */
export const TRANSIENT_LABELS: readonly string[] = [
  "RetryableWriteError",
  "TransientTransactionError",
  "RetryableError",
];

/** The error's own name and the names of the classes it inherits from. */
function classNames(error: unknown): Set<string> {
  const names = new Set<string>();
  const own = (error as MongoErrorLike).name;
  if (typeof own === "string") names.add(own);
  for (let proto = Object.getPrototypeOf(error); proto && proto !== Object.prototype;) {
    const name = (proto.constructor as { name?: unknown } | undefined)?.name;
    if (typeof name === "string") names.add(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

function hasLabel(e: MongoErrorLike, label: string): boolean {
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label);
}

/** Converts any error thrown by the MongoDB driver into a {@link BedsError}. */
export function mapMongoError(error: unknown): BedsError {
  if (error instanceof BedsError) return error;
  if (error === null || typeof error !== "object") {
    return new BedsError("DB_ERROR", "Database error", { cause: error });
  }
  const e = error as MongoErrorLike;
  const code = typeof e.code === "number" ? e.code : undefined;
  if (code !== undefined && DUPLICATE_CODES.has(code)) {
    return new BedsError("CONFLICT", conflictMessage(e), {
      cause: error,
      details: e.keyPattern ? { fields: Object.keys(e.keyPattern) } : undefined,
    });
  }
  if (code !== undefined && VALIDATION_CODES.has(code)) {
    return new BedsError(
      "VALIDATION",
      code === 121
        ? "Document rejected by the collection's validator"
        : "Field name rejected by the database",
      { cause: error, details: { code } },
    );
  }
  const names = classNames(error);
  // Before the codes and labels below, which it may carry too (50, 91; RetryableWriteError).
  if (names.has("MongoWriteConcernError")) return replicationUnconfirmed(error, e, code);
  if (code === 50) {
    // MaxTimeMSExpired: the server ended the operation at query_timeout_ms with nothing applied,
    // as MariaDB's statement timeout.
    return new BedsError("DB_UNAVAILABLE", "No answer from MongoDB within query_timeout_ms; try again", {
      cause: error,
      details: { reason: e.codeName, code },
    });
  }
  if (
    [...names].some((n) => UNAVAILABLE_NAMES.has(n)) ||
    (code !== undefined && UNAVAILABLE_CODES.has(code)) ||
    TRANSIENT_LABELS.some((label) => hasLabel(e, label))
  ) {
    return new BedsError("DB_UNAVAILABLE", "Database unavailable; try again", {
      cause: error,
      details: { reason: e.name ?? e.codeName, code },
    });
  }
  return new BedsError("DB_ERROR", "Database error", {
    cause: error,
    details: code === undefined ? undefined : { code, codeName: e.codeName },
  });
}

/**
 * A write the primary applied whose write concern (the URL's `w`) was not met: timed out after
 * `wtimeoutMS` (64, `errInfo.wtimeout`) or failed otherwise (100 unsatisfiable, 91 a shutdown).
 * Not DB_UNAVAILABLE: a retry would apply it again (a create without its key stores a second
 * document), and until it is replicated a failover may still roll it back. As MariaDB's TXN whose
 * COMMIT got no answer.
 */
function replicationUnconfirmed(error: unknown, e: MongoErrorLike, code: number | undefined): BedsError {
  return new BedsError(
    "DB_ERROR",
    "The write was applied on the primary, but its replication was not confirmed; check before sending it again",
    { cause: error, details: { step: "replication", outcome: "unknown", code, codeName: e.codeName } },
  );
}

function conflictMessage(e: MongoErrorLike): string {
  const index = /index: (\S+) dup key/.exec(e.errmsg ?? e.message ?? "")?.[1];
  return index ? `Duplicate value for unique key "${index}"` : "Duplicate value";
}
