/**
 * Compound event ids. A root id is `<time36>-<node>-<boot>-<seq36>`: the
 * time comes first and is fixed-width, so ids sort by time (across nodes, as
 * far as their clocks agree); `boot` tells restarts of one node apart and
 * `seq` orders the ids of one millisecond. A child id extends its parent's
 * with `.<suffix>`: `.<n>` for fan-out part n, `.r<n>` for retry attempt n,
 * `.<root id>` for a request that named the parent itself (`event.parent`).
 *
 * A whole chain therefore shares its root's prefix and is fetched with one
 * range query on one indexed column: `id = root OR (id >= "root." AND id <
 * "root/")` (`/` is the character after `.`), see {@link chainRange}.
 *
 * @module
 */

/** Options for {@link createEventIds}. */
export interface EventIdOptions {
  /** Node instance id (sanitised into the id). */
  node: string;
  /** Boot id; distinguishes restarts of the same instance. @default creation time + random */
  boot?: string;
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /** Source of randomness for the default boot id. @default Math.random */
  random?: () => number;
}

/** Produces event ids for one node boot. */
export interface EventIds {
  /** A new root id, or a child of `parent` (a client-supplied id) when given. */
  next(parent?: string): string;
  /** The n-th fan-out part of `parent`. */
  child(parent: string, n: number): string;
  /** Retry attempt `attempt` (2, 3, …) of the request whose first attempt was `root`. */
  retry(root: string, attempt: number): string;
}

/** What a client may pass as `event.parent`: dot-separated words of letters, digits, `_`, `-`. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Longest accepted `event.parent`, leaving room for the ids BEDS appends (stored ids ≤ 600 chars). */
export const MAX_PARENT_LENGTH = 400;

/**
 * Most dot-separated words an `event.parent` may have. BEDS's own ids are a word per link (a chain
 * of requests 400 characters long has about ten), while 200 one-letter words would make every
 * reader of the chain build a level for each.
 */
export const MAX_PARENT_PARTS = 32;

/**
 * Longest first-attempt id a retried copy may carry (`x-beds-event`): the stored ids are at most 600
 * characters, and a retry appends `.r<n>` (n ≤ 65535) and its fan-out parts `.<n>` to it.
 */
export const MAX_RETRIED_EVENT_LENGTH = 584;

const TIME_WIDTH = 9; // 36^9 ms is beyond the year 5000
const SEQ_WIDTH = 4; // 1.6 million ids per millisecond before the time is borrowed

/** Creates an event id generator for one node boot. */
export function createEventIds(options: EventIdOptions): EventIds {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const node = options.node.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 48) || "_";
  const boot = (options.boot ?? defaultBoot(now(), random)).replace(/[^A-Za-z0-9_]/g, "_");
  let last = -1;
  let seq = 0;
  // Everything before the sequence, formatted once per millisecond: at thousands of requests per
  // second most ids share it with the id before them.
  let prefix = "";
  const root = () => {
    // Never go back in time (clock steps), so ids of one boot are strictly increasing.
    let t = Math.max(now(), last);
    if (t === last) {
      seq++;
      if (seq >= 36 ** SEQ_WIDTH) {
        t = last + 1;
        seq = 0;
      }
    } else {
      seq = 0;
    }
    if (t !== last || !prefix) prefix = `${t.toString(36).padStart(TIME_WIDTH, "0")}-${node}-${boot}-`;
    last = t;
    return prefix + seq.toString(36).padStart(SEQ_WIDTH, "0");
  };
  return {
    next: (parent) => parent ? `${parent}.${root()}` : root(),
    child: (parent, n) => `${parent}.${n}`,
    retry: (root, attempt) => `${root}.r${attempt}`,
  };
}

function defaultBoot(now: number, random: () => number): string {
  const salt = Math.floor(random() * 36 ** 4).toString(36).padStart(4, "0");
  return `${now.toString(36)}${salt}`;
}

/** The root of the chain `id` belongs to (its first segment). */
export function chainRoot(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : id.slice(0, dot);
}

/** The id `id` extends, or undefined for a root. */
export function parentId(id: string): string | undefined {
  const dot = id.lastIndexOf(".");
  return dot < 0 ? undefined : id.slice(0, dot);
}

/** True when `id` is `ancestor` or one of its descendants. */
export function inChain(id: string, ancestor: string): boolean {
  return id === ancestor || id.startsWith(`${ancestor}.`);
}

/**
 * The range of ids below `id` (exclusive of `id` itself): every descendant
 * `d` has `from <= d < to`, in byte order (the store's column must compare
 * bytes, e.g. MariaDB `ascii_bin`).
 */
export function chainRange(id: string): { from: string; to: string } {
  return { from: `${id}.`, to: `${id}/` };
}
