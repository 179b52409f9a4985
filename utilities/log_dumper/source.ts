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

/**
 * A record and the fan-out parts folded into it (BEDS's `[logstore] fold_parts`: the parent's
 * `doc.parts`, one `[n, template, op, call, ms, rows]` per successful part `<parent>.<n>`), each
 * part as the record it would have had on its own. A record without parts is returned alone.
 */
export function unfoldParts(record: LogRecord): LogRecord[] {
  const parts = record.doc.parts;
  if (!Array.isArray(parts)) return [record];
  const { parts: _, ...doc } = record.doc;
  const out: LogRecord[] = [{ ...record, doc }];
  const text = (v: unknown) => v === null || v === undefined ? null : String(v);
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
  for (const part of parts) {
    if (!Array.isArray(part) || typeof part[0] !== "string" || !/^\d+$/.test(part[0])) continue;
    const call = text(part[3]);
    out.push({
      ...record,
      event: `${record.event}.${part[0]}`,
      parent: record.event,
      kind: "request",
      level: "info",
      template: text(part[1]),
      op: text(part[2]),
      code: null,
      action: "reply",
      ms: num(part[4]),
      rows: num(part[5]),
      message: null,
      doc: call === null ? {} : { call },
    });
  }
  return out;
}

/**
 * Whether a record passes the filter's terms on its own fields (time and paging are the store's),
 * ignoring case as the MariaDB store does.
 */
export function matchesFilter(record: LogRecord, filter: RecordFilter): boolean {
  for (const field of ["node", "level", "kind", "template", "code"] as const) {
    const want = filter[field];
    if (want && record[field]?.toLowerCase() !== want.toLowerCase()) return false;
  }
  if (filter.status === "ok" && record.code !== null) return false;
  if (filter.status === "error" && record.code === null) return false;
  return true;
}

/**
 * A source whose readers see folded parts as records of their own. The store filters what it
 * keeps by its own rules, so a part is found through its parent's record, then checked against
 * the filter here.
 */
export function unfolding(source: LogSource): LogSource {
  return {
    recent: async (filter, limit) =>
      (await source.recent(filter, limit)).flatMap((record) => {
        const [own, ...parts] = unfoldParts(record);
        return [own!, ...parts.filter((part) => matchesFilter(part, filter))];
      }),
    chain: async (event) => (await source.chain(event)).flatMap(unfoldParts),
    close: () => source.close(),
  };
}
