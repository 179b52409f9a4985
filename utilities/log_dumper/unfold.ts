/**
 * What the pages read: a {@link LogSource} whose folded fan-out parts are
 * records of their own, in bounded numbers. A record may carry any number of
 * parts (a writer decides), so each page unfolds at most {@link PART_LIMIT}
 * of one record, an events page shows at most {@link PAGE_ROWS} rows and a
 * chain at most {@link CHAIN_LIMIT} stored records; the pages say when they
 * hold less than there is.
 *
 * @module
 */
import { type LogRecord, type LogSource, type RecordFilter, statusOf } from "./source.ts";

/** Folded parts unfolded per record; the rest are counted in `moreParts`. */
export const PART_LIMIT = 100;

/** Rows of one events page at most (whole records: a record and its parts are never split). */
export const PAGE_ROWS = 1000;

/** Stored records of one chain read at most, the oldest first. */
export const CHAIN_LIMIT = 5000;

/** Rows of one chain at most once parts are unfolded (the requested event is shown in any case). */
export const CHAIN_ROWS = 5000;

/** One chain as the chain page shows it. */
export interface ChainView {
  /** Its records, parts unfolded. */
  records: LogRecord[];
  /** The chain has more than {@link CHAIN_LIMIT} records: only the oldest (and the requested one) are here. */
  cut: boolean;
}

/** What the pages read. */
export interface LogReader {
  /** The newest records first, each followed by its unfolded parts that pass the filter. */
  recent(filter: RecordFilter, limit: number, signal?: AbortSignal): Promise<LogRecord[]>;
  chain(event: string, signal?: AbortSignal): Promise<ChainView>;
  close(): Promise<void>;
}

/**
 * A record and the fan-out parts folded into it (BEDS's `[logstore] fold_parts`: the parent's
 * `doc.parts`, one `[n, template, op, call, ms, rows]` per successful part `<parent>.<n>`), each
 * part as the record it would have had on its own, at most `limit` of them (and the part `wanted`,
 * wherever it is); the parent counts the others in `moreParts`. A record without parts is returned alone.
 */
export function unfoldParts(record: LogRecord, limit = PART_LIMIT, wanted?: string): LogRecord[] {
  const parts = record.doc.parts;
  if (!Array.isArray(parts)) return [record];
  const { parts: _, ...doc } = record.doc;
  const own: LogRecord = { ...record, doc };
  const out: LogRecord[] = [own];
  const text = (v: unknown) => v === null || v === undefined ? null : String(v);
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
  let shown = 0;
  let more = 0;
  for (const part of parts) {
    if (!Array.isArray(part) || typeof part[0] !== "string" || !/^\d+$/.test(part[0])) continue;
    const event = `${record.event}.${part[0]}`;
    if (shown >= limit && event !== wanted) {
      more++;
      continue;
    }
    if (event !== wanted) shown++;
    const call = text(part[3]);
    out.push({
      ...record,
      event,
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
  if (more > 0) own.moreParts = more;
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
  return !filter.status || statusOf(record) === filter.status;
}

/**
 * Whether a folded part of `parent`, which the store matched, passes the filter too: where the filter
 * names a value, the part must hold its parent's. Not the filter's own text: the store compared
 * that with its own collation (MariaDB's ignores case and accents, MongoDB's neither), which no
 * comparison here could follow. The status is the part's own.
 */
export function partMatches(part: LogRecord, parent: LogRecord, filter: RecordFilter): boolean {
  for (const field of ["node", "level", "kind", "template", "code"] as const) {
    if (filter[field] && part[field] !== parent[field]) return false;
  }
  return !filter.status || statusOf(part) === filter.status;
}

/**
 * The first records of a page whose rows (a record and its parts, which share its id and follow it)
 * fit in `maxRows`, whole records only, at least one; `cut` when some were left out. The next page
 * starts after the last record kept.
 */
export function capRows(
  rows: readonly LogRecord[],
  maxRows = PAGE_ROWS,
): { rows: LogRecord[]; cut: boolean } {
  let end = 0;
  while (end < rows.length) {
    let next = end + 1;
    while (next < rows.length && rows[next]!.id === rows[end]!.id) next++;
    if (next > maxRows && end > 0) return { rows: rows.slice(0, end), cut: true };
    end = next;
  }
  return { rows: [...rows], cut: false };
}

/** The id a part or retry extends (`<parent>.<suffix>`), if any. */
function parentOf(event: string): string | undefined {
  const dot = event.lastIndexOf(".");
  return dot < 0 ? undefined : event.slice(0, dot);
}

/**
 * A reader whose pages see folded parts as records of their own. The store filters what it keeps by
 * its own rules, so a part is found through its parent's record, then checked against the filter here.
 */
export function unfolding(source: LogSource): LogReader {
  return {
    recent: async (filter, limit, signal) =>
      (await source.recent(filter, limit, signal)).flatMap((record) => {
        const [own, ...parts] = unfoldParts(record);
        return [own!, ...parts.filter((part) => partMatches(part, own!, filter))];
      }),
    async chain(event, signal) {
      // One more than shown tells whether the chain was cut.
      const stored = await source.chain(event, CHAIN_LIMIT + 1, signal);
      const cut = stored.length > CHAIN_LIMIT;
      if (cut) {
        stored.length = CHAIN_LIMIT;
        // The clicked event may be past the oldest records: read it (or the record its part is folded in).
        if (!stored.some((r) => r.event === event)) {
          const have = new Set(stored.map((r) => r.event));
          const ids = [event, parentOf(event)].filter((id): id is string => id !== undefined);
          stored.push(...(await source.events(ids, signal)).filter((r) => !have.has(r.event)));
        }
      }
      let budget = CHAIN_ROWS - stored.length;
      const records = stored.flatMap((record) => {
        const rows = unfoldParts(record, Math.max(0, Math.min(PART_LIMIT, budget)), event);
        budget -= rows.length - 1;
        return rows;
      });
      return { records, cut };
    },
    close: () => source.close(),
  };
}
