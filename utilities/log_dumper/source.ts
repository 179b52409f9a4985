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
  /** "ok" (no code) or "error" (any code). */
  status?: string;
  /** ISO times (see {@link filterTime}). */
  since?: string;
  until?: string;
  /** Records stored before this id (the next page). */
  before?: number;
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

/** An ISO date and time, the zone optional (UTC then); what a `datetime-local` input sends. */
const ISO_TIME =
  /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?)?([zZ]|[+-]\d\d:\d\d)?$/;

/**
 * The milliseconds of a filter time, or undefined when it is no ISO time in the years 1000–9999:
 * the stores compare `at` as `YYYY-MM-DD HH:MM:SS.mmm`, which a five-digit or negative year (which
 * `Date` allows) does not fit. A time that names no real one (February 30th, 24:00) is refused,
 * not rolled over to another day as `Date.parse` would, so the page names it as ignored.
 */
export function filterTime(text: string | undefined): number | undefined {
  const match = text ? ISO_TIME.exec(text) : null;
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const ms = Number((match[7] ?? "0").padEnd(3, "0"));
  const wall = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms));
  const read = [wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()];
  const clock = [wall.getUTCHours(), wall.getUTCMinutes(), wall.getUTCSeconds()];
  if ([...read, ...clock].join() !== [y, mo, d, h, mi, s].join()) return undefined;
  const zone = match[8];
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== "Z") {
    const [hours, minutes] = zone.slice(1).split(":").map(Number) as [number, number];
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const t = wall.getTime() - offsetMinutes * 60_000;
  const year = new Date(t).getUTCFullYear();
  return year >= 1000 && year <= 9999 ? t : undefined;
}

/** A filter time as the stores write `at`: `2025-01-02 03:04:05.678` (UTC); undefined when none. */
export function storedTime(text: string | undefined): string | undefined {
  const t = filterTime(text);
  return t === undefined ? undefined : new Date(t).toISOString().slice(0, 23).replace("T", " ");
}
