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
  /** What no column holds (a request's user and reason, an IPL record's steps, …). */
  doc: Record<string, unknown>;
}

/** Filters of the event list; empty means any. */
export interface RecordFilter {
  node?: string;
  level?: string;
  kind?: string;
  template?: string;
  code?: string;
  /** "ok" (no code) or "error" (any code). */
  status?: string;
  /** ISO times. */
  since?: string;
  until?: string;
  /** Records stored before this id (the next page). */
  before?: number;
}

/** A read-only view of the log store. */
export interface LogSource {
  /** The newest records first. */
  recent(filter: RecordFilter, limit: number): Promise<LogRecord[]>;
  /** Every record of the chain `event` belongs to. */
  chain(event: string): Promise<LogRecord[]>;
  close(): Promise<void>;
}
