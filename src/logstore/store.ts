/**
 * Reads and writes of the log store, all through the adapter interface and
 * the `mst` template: on MariaDB a batch call (`calls.log_rows`, one JSON
 * array of positional records per write, or several for a large one), a
 * procedure read (`ops.read`) and a chain call (`calls.chain`); on a store
 * without procedures (MongoDB) one `create` per record and `read` with
 * equality filters.
 *
 * @module
 */
import type { Adapter, Values } from "../adapters/mod.ts";
import { BedsError } from "../errors.ts";
import type { RecTemplate } from "../templates/mod.ts";
import { chainRoot, inChain } from "../protocol/mod.ts";
import { batchTuple, docText, type LogRow, type StoredEvent } from "./rows.ts";
import { sqlTime } from "./sql_time.ts";
import { PartialWriteError } from "./buffer.ts";
import { storedRecords } from "./fold.ts";
import { splitBySize } from "./split.ts";
import { CHAIN_LIMIT, type ChainRead, chainReadOf, chainRows, lineage } from "./chain_cut.ts";

/**
 * Longest JSON text of one `log_rows` call, in UTF-16 units: at most 3 bytes each in UTF-8, so
 * 6 MiB, well under MariaDB's `max_allowed_packet` (16 MiB by default). A larger statement makes
 * the server drop the connection, and its call fails however often it is tried. A batch whose
 * records pass this is written in several calls; records are clipped where they are built
 * (`toLogRow`), so one of them alone stays far below it.
 */
export const MAX_CALL_CHARS = 2 * 1024 * 1024;

/** Filters of {@link LogStore.tail}; absent means any. */
export interface TailFilter {
  node?: string;
  level?: string;
  kind?: string;
  template?: string;
  code?: string;
  /** ISO times; `until` is MariaDB only. */
  since?: string;
  until?: string;
  /** Records stored before this id (paging), MariaDB only. */
  before?: number;
  /** Records stored after this id (following), MariaDB only. */
  after?: number;
  /** @default 50 */
  limit?: number;
}

/**
 * The widths (in characters) of the columns the text filters of {@link TailFilter} compare: the
 * store keeps no longer value, and MariaDB refuses a longer filter ("Data too long").
 */
export const TAIL_FILTER_WIDTHS = { node: 128, template: 32, code: 32 } as const;

/** The log store behind its template. */
export interface LogStore {
  /** Writes a batch of records. */
  write(rows: LogRow[]): Promise<void>;
  /** The newest records first. */
  tail(filter: TailFilter): Promise<StoredEvent[]>;
  /**
   * The records of the chain `event` belongs to, oldest first: every one, or when there are more
   * than {@link CHAIN_LIMIT}, the oldest and `event` with the records it extends (`cut`).
   */
  chain(event: string): Promise<ChainRead>;
}

/** Options for {@link createLogStore}. */
export interface LogStoreOptions {
  adapter: Adapter;
  /** The `mst` template, with the store and database the config chose. */
  template: RecTemplate;
}

/** Values checked by the template's own field checks, as dispatch would. */
function checked(template: RecTemplate, values: Record<string, unknown>): Values {
  const out = new Map<string, unknown>();
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const check = template.checks.get(field);
    if (!check) {
      throw new BedsError("INTERNAL", `Log store template "${template.name}" lacks field "${field}"`);
    }
    out.set(field, value === null ? null : check(value));
  }
  return out;
}

/**
 * Whether a part folded into its parent's record passes the filter, its parent having passed it
 * in the store: the part passes where it holds what its parent holds (its node, kind and mostly its
 * level are its parent's; its template and code may differ). The filter's own values are never
 * compared here, so the answer is the store's however it compares text (MariaDB's collation
 * ignores case, accents and trailing spaces, and not the way any JavaScript comparison does).
 */
export function matchesTail(part: StoredEvent, parent: StoredEvent, filter: TailFilter): boolean {
  for (const field of ["node", "level", "kind", "template", "code"] as const) {
    if (filter[field] !== undefined && part[field] !== parent[field]) return false;
  }
  return true;
}

/** The records (newest first) at or after `since`; all when it is unset or no time. */
export function sinceCut(records: StoredEvent[], since: string | undefined): StoredEvent[] {
  const from = since === undefined ? NaN : Date.parse(since);
  if (Number.isNaN(from)) return records;
  return records.filter((r) => !(Date.parse(r.at) < from));
}

const byTime = (a: StoredEvent, b: StoredEvent) =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : (a.id ?? 0) - (b.id ?? 0);

/** The filter as values of the template's fields (times as the store keeps them). */
export function filterValues(filter: TailFilter) {
  return {
    node: filter.node,
    level: filter.level,
    kind: filter.kind,
    template: filter.template,
    code: filter.code,
    since: filter.since === undefined ? undefined : sqlTime(filter.since),
    until: filter.until === undefined ? undefined : sqlTime(filter.until),
  };
}

/**
 * The `records` of the `log_rows` calls that write `rows` (the JSON text the field's own check would
 * make of them), each with how many rows it holds: one call, unless its text passes
 * MAX_CALL_CHARS; then the records' texts are made one by one and cut into calls below it.
 */
function callBatches(rows: readonly LogRow[]): Array<[records: string, count: number]> {
  const tuples = rows.map(batchTuple);
  const whole = JSON.stringify(tuples);
  if (whole.length <= MAX_CALL_CHARS) return [[whole, rows.length]];
  const texts = tuples.map((tuple) => JSON.stringify(tuple));
  return splitBySize(texts, MAX_CALL_CHARS, (text) => text.length).map((batch) => [
    `[${batch.join(",")}]`,
    batch.length,
  ]);
}

/** Creates the log store over an adapter. */
export function createLogStore(options: LogStoreOptions): LogStore {
  const { adapter, template } = options;
  const procedures = adapter.store === "mariadb";

  return {
    async write(rows) {
      if (!rows.length) return;
      if (procedures) {
        let done = 0;
        for (const [records, count] of callBatches(rows)) {
          try {
            await adapter.call({ template, call: "log_rows", values: new Map([["records", records]]) });
          } catch (error) {
            if (done === 0) throw error;
            throw new PartialWriteError(rows.slice(0, done), error);
          }
          done += count;
        }
        return;
      }
      // A store without batch calls takes a record per insert, so a batch can fail half written:
      // what was stored is reported, and the writer tries again only the rest.
      // Every record checked before the first insert: a bad one fails the batch with nothing written.
      const values = rows.map((row) => checked(template, { ...row, doc: docText(row), parts: undefined }));
      const results = await Promise.allSettled(values.map((v) => adapter.create({ template, values: v })));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) {
        throw new PartialWriteError(rows.filter((_, i) => results[i]!.status === "fulfilled"), failed.reason);
      }
    },

    async tail(filter) {
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 10000);
      if (procedures) {
        const params = checked(template, {
          ...filterValues(filter),
          before: filter.before,
          after: filter.after,
          max_rows: limit,
        });
        const result = await adapter.read({
          template,
          where: new Map(),
          order: [],
          limit,
          offset: 0,
          params,
        });
        return storedRecords(result.data, (part, parent) => matchesTail(part, parent, filter));
      }
      const where = new Map<string, unknown[]>();
      for (const [field, value] of Object.entries(filterValues(filter))) {
        if (value !== undefined && field !== "since" && field !== "until") where.set(field, [value]);
      }
      const result = await adapter.read({
        template,
        where,
        order: [{ field: "at", desc: true }],
        limit,
        offset: 0,
        params: new Map(),
      });
      // Reads filter by equality only. Newest first, the records since a time are a prefix of
      // the page, so cutting the page there is exact; `until` has no such property and is not offered.
      return sinceCut(
        storedRecords(result.data, (part, parent) => matchesTail(part, parent, filter)),
        filter.since,
      );
    },

    async chain(event) {
      if (procedures) {
        // sp_mst_chain answers one record more than a read holds, and the event's lineage past them.
        const result = await adapter.call({ template, call: "chain", values: checked(template, { event }) });
        return chainReadOf(result.data, event);
      }
      const root = chainRoot(event);
      const read = async (where: Map<string, unknown[]>, limit: number) => {
        const result = await adapter.read({
          template,
          where,
          order: [{ field: "at", desc: false }],
          limit,
          offset: 0,
          params: new Map(),
        });
        const docs = Array.isArray(result.data) ? result.data as Array<{ event?: unknown }> : [];
        return docs.filter((doc) => inChain(String(doc.event), root));
      };
      // One more than a read holds tells whether the chain was cut.
      const { rows, cut } = chainRows(await read(new Map([["root", [root]]]), CHAIN_LIMIT + 1), event);
      if (cut) {
        // The event asked for, and those it extends, may be past the oldest records.
        const have = new Set(rows.map((doc) => String(doc.event)));
        const missing = lineage(event).filter((id) => !have.has(id));
        if (missing.length) rows.push(...await read(new Map([["event", missing]]), missing.length));
      }
      return { records: storedRecords(rows).sort(byTime), cut };
    },
  };
}
