/**
 * How `beds logs tail --follow` goes on from what it has printed: by insertion id where the store
 * has them (MariaDB, the admin role's store), by time and the events seen where it has none
 * (MongoDB).
 *
 * @module
 */
import type { LogStore, StoredEvent, TailFilter } from "../logstore/mod.ts";

/**
 * Where `--follow` is on a store without insertion ids (MongoDB): the newest time seen, and every event
 * seen within `lagMs` of it. A record reaches the store up to a batch's wait (and its retries) after its
 * time, and a node's later than another's: each poll reads back `lagMs` before the newest time, so a
 * record stored late is printed when it arrives, and once.
 */
export interface FollowMark {
  at?: string;
  /** Event → its time, for the events seen within `lagMs` of `at`. */
  seen: Map<string, string>;
  lagMs: number;
}

/** How far back `--follow` reads on a store without ids: longer than a record may wait to be stored. */
export function followLagMs(flushMs: number): number {
  return Math.max(5000, 10 * flushMs);
}

/** The time a `--follow` poll reads from: `lagMs` before the newest seen, never before `since`. */
export function followSince(mark: FollowMark, since?: string): string | undefined {
  if (mark.at === undefined) return since;
  const from = new Date(Date.parse(mark.at) - mark.lagMs).toISOString();
  return since !== undefined && Date.parse(since) > Date.parse(from) ? since : from;
}

/**
 * The records (newest first, as the store answers) not seen yet by `--follow` on a store without
 * insertion ids, oldest first; marks them seen, and forgets those past the lag.
 */
export function unseen(records: readonly StoredEvent[], mark: FollowMark): StoredEvent[] {
  const fresh = records.filter((r) => !mark.seen.has(r.event)).reverse();
  for (const r of fresh) {
    mark.seen.set(r.event, r.at);
    if (mark.at === undefined || r.at > mark.at) mark.at = r.at;
  }
  const from = followSince(mark);
  if (from !== undefined) {
    const cut = Date.parse(from);
    for (const [event, at] of mark.seen) if (Date.parse(at) < cut) mark.seen.delete(event);
  }
  return fresh;
}

/** Stored records one `--follow` poll reads at a time. */
export const FOLLOW_PAGE = 1000;

/**
 * Every record stored after id `after`, oldest first, however many arrived since the last poll:
 * the store answers the newest page first, so a full page is followed by the one before it.
 */
export async function storedAfter(
  store: LogStore,
  filter: TailFilter,
  after: number,
  page = FOLLOW_PAGE,
): Promise<StoredEvent[]> {
  const pages: StoredEvent[][] = [];
  let before: number | undefined;
  for (;;) {
    const records = await store.tail({ ...filter, after, before, limit: page });
    pages.push(records);
    // Folded parts share their parent's id: a page is full when it holds `page` stored records.
    const ids = new Set(records.map((r) => r.id ?? 0));
    if (ids.size < page) break;
    before = Math.min(...ids);
  }
  return pages.reverse().flatMap((records) => [...records].reverse());
}

/** The highest store id of `records`, or `from` (a loop: a spread of 250,000 records overflows the stack). */
export function newestId(records: readonly StoredEvent[], from: number): number {
  let newest = from;
  for (const r of records) if ((r.id ?? 0) > newest) newest = r.id!;
  return newest;
}
