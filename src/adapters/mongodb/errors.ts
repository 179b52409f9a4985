/**
 * Maps MongoDB driver errors to wire errors: a duplicate key (11000) is
 * CONFLICT, a document the collection's validator rejects (121) is
 * VALIDATION, a lost or unreachable server or an operation past
 * `query_timeout_ms` is DB_UNAVAILABLE (so writes are retried), as for
 * MariaDB, anything else DB_ERROR. Pure: it reads only names, codes, labels
 * and `errInfo`, so it needs no driver import.
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
  /** A write concern error's detail: `wtimeout` when it was not met in time. */
  errInfo?: { wtimeout?: unknown };
}

/** Driver error classes meaning "the server cannot be reached now" (subclasses count too). */
const UNAVAILABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
  "MongoServerClosedError",
  "MongoOperationTimeoutError",
  "MongoWaitQueueTimeoutError",
]);

/** Server codes of a replica set in transition, a shutdown or a time limit. */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
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

const TRANSIENT_LABELS = ["RetryableWriteError", "TransientTransactionError", "NetworkError"];

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

/**
 * Whether the operation ran out of `query_timeout_ms`: its `maxTimeMS` (50 MaxTimeMSExpired) or its
 * write concern's `wtimeoutMS` (64, WriteConcernFailed before MongoDB 8.1, `errInfo.wtimeout`).
 */
function timedOut(e: MongoErrorLike, code: number | undefined): boolean {
  return code === 50 || code === 64 || e.errInfo?.wtimeout === true;
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
  if (timedOut(e, code)) {
    // What MariaDB answers for a statement past its query_timeout_ms. A write concern timeout
    // leaves the write applied on the primary, as a MariaDB connection lost mid-statement may.
    return new BedsError("DB_UNAVAILABLE", "No answer from MongoDB within query_timeout_ms; try again", {
      cause: error,
      details: { reason: e.codeName ?? e.name, code },
    });
  }
  const names = classNames(error);
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

function conflictMessage(e: MongoErrorLike): string {
  const index = /index: (\S+) dup key/.exec(e.errmsg ?? e.message ?? "")?.[1];
  return index ? `Duplicate value for unique key "${index}"` : "Duplicate value";
}
