/**
 * What the observer reads, independent of the store behind it.
 *
 * @module
 */

/** One log record as the observer shows it. */
export interface LogRecord {
  /** Insertion order (the paging cursor). */
  id: number;
  event: string;
  parent: string | null;
  kind: string;
  level: string;
  /** ISO time (UTC). */
  at: string;
  node: string;
  broker: string | null;
  template: string | null;
  op: string | null;
  code: string | null;
  action: string | null;
  attempt: number | null;
  ms: number | null;
  rows: number | null;
  message: string | null;
  /** What no column holds (a request's user and reason, an IPL record's steps, …); always a plain object. */
  doc: Record<string, unknown>;
  /** Folded parts of this record left folded: over the number a page unfolds (unfold.ts). */
  moreParts?: number;
}

/** Filters of the event list; empty means any. */
export interface RecordFilter {
  node?: string;
  level?: string;
  kind?: string;
  template?: string;
  code?: string;
  /** "ok" or "error": see {@link statusOf}. */
  status?: string;
  /** ISO times (see {@link filterTime}). */
  since?: string;
  until?: string;
  /** Records stored before this id (the next page). */
  before?: number;
}

/**
 * What a record's "Status" is, as the events page shows and filters it: "error" when it reports a
 * failure (an error code, or level error: a failed IPL record has no code), "ok" when it reports
 * nothing to look at (level info, no code), else none: a warning without a code (a status record
 * such as `reconnecting`, an IPL with warnings) is neither. The stores' filters (`filterSql`,
 * `recordFilter`) say the same in their own terms.
 */
export function statusOf(record: Pick<LogRecord, "code" | "level">): "ok" | "error" | undefined {
  if (record.code !== null || record.level === "error") return "error";
  return record.level === "info" ? "ok" : undefined;
}

/**
 * A read-only view of the log store. A read the store fails rejects with a {@link StoreError}; the
 * signal, when it aborts (the reader went away), stops the read where the driver allows.
 */
export interface LogSource {
  /** The newest records first. */
  recent(filter: RecordFilter, limit: number, signal?: AbortSignal): Promise<LogRecord[]>;
  /** The oldest `limit` records of the chain `event` belongs to. */
  chain(event: string, limit: number, signal?: AbortSignal): Promise<LogRecord[]>;
  /** The records stored under these event ids, those that exist. */
  events(ids: readonly string[], signal?: AbortSignal): Promise<LogRecord[]>;
  close(): Promise<void>;
}

/**
 * The store could not answer (down, refused, timed out): what the observer reports as "Log store
 * unavailable". Anything else that fails is the observer's own fault and reported as such.
 */
export class StoreError extends Error {
  constructor(cause: unknown) {
    super(String((cause as Error)?.message ?? cause), { cause });
    this.name = "StoreError";
  }
}

/** Runs a store call, its failure a {@link StoreError}. */
export async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw error instanceof StoreError ? error : new StoreError(error);
  }
}

/**
 * A record's `doc` as the observer uses it: a plain object, else `{}`. Any writer can leave JSON
 * `null`, an array or a string there (the column only checks that it is JSON), and every page reads
 * its fields.
 */
export function plainDoc(value: unknown): Record<string, unknown> {
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

// The time parsing is shared with `beds logs tail --since`, which must not import the rest.
export { filterTime, storedTime } from "./iso_time.ts";
