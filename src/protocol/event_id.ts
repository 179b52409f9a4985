/**
 * Compound event ids: `<time36>-<node>-<boot>-<seq36>`, sortable by time
 * within a node; a child id extends its parent's with `.<n>`, so a whole
 * chain shares one prefix.
 *
 * @module
 */

/** Options for {@link createEventIds}. */
export interface EventIdOptions {
  /** Node instance id (sanitised into the id). */
  node: string;
  /** Boot id; distinguishes restarts of the same instance. @default time of creation */
  boot?: string;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/** Produces event ids for one node boot. */
export interface EventIds {
  /** A new root id, or a child of `parent` when given. */
  next(parent?: string): string;
  /** The n-th child of `parent` (fan-out parts, retries). */
  child(parent: string, n: number): string;
}

/** Creates an event id generator for one node boot. */
export function createEventIds(options: EventIdOptions): EventIds {
  const now = options.now ?? Date.now;
  const node = options.node.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 48);
  const boot = options.boot ?? now().toString(36);
  let seq = 0;
  const root = () => `${now().toString(36).padStart(9, "0")}-${node}-${boot}-${(seq++).toString(36)}`;
  return {
    next: (parent) => parent ? `${parent}.${root()}` : root(),
    child: (parent, n) => `${parent}.${n}`,
  };
}
