/**
 * One error hierarchy for BEDS. Every error carries a stable wire `code`
 * from the closed set in {@link ERROR_CODES}, so one pure function
 * ({@link toErrorBody}) turns any thrown value into a reply.
 *
 * @module
 */

/** The closed set of wire error codes (documented in docs/protocol.md). */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "TOO_LARGE",
  "UNKNOWN_TEMPLATE",
  "OP_NOT_ALLOWED",
  "VALIDATION",
  "NOT_FOUND",
  "CONFLICT",
  "FORBIDDEN",
  "DB_UNAVAILABLE",
  "DB_ERROR",
  "DEADLINE_EXCEEDED",
  "OVERLOADED",
  "INTERNAL",
] as const;

/** A wire error code. */
export type ErrorCode = typeof ERROR_CODES[number];

/** Error codes whose cause may pass if the same request is tried again later. */
export const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "DB_UNAVAILABLE",
  "OVERLOADED",
]);

/** Options for {@link BedsError}. */
export interface BedsErrorOptions {
  /** Structured detail safe to send to the client. */
  details?: unknown;
  /** The underlying error, kept for logs, never sent on the wire. */
  cause?: unknown;
}

/** Base of every error BEDS raises on purpose; `code` is its wire code. */
export class BedsError extends Error {
  /** Stable wire code. */
  readonly code: ErrorCode;
  /** Client-safe detail (field names, limits); never secrets or SQL. */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: BedsErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "BedsError";
    this.code = code;
    this.details = options.details;
  }
}

/** A configuration file or value is invalid; the message names file and key path. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** A template file is invalid or does not match the database; names file and key. */
export class TemplateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TemplateError";
  }
}

/** The wire form of an error. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/**
 * Turns any thrown value into the wire error body. Unknown errors become
 * `INTERNAL` with a generic message so internals never leak to clients.
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof BedsError) {
    return error.details === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, details: error.details };
  }
  return { code: "INTERNAL", message: "Internal error" };
}

/** True when `error` is a {@link BedsError} whose code is transient. */
export function isTransient(error: unknown): boolean {
  return error instanceof BedsError && TRANSIENT_CODES.has(error.code);
}
