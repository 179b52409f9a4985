/**
 * The log store on MongoDB: collection `msLogs` (as BEDS writes it through
 * the MongoDB variant of template `mst`), read with the observer's own
 * connection. Only `find` is used; filter values come from the query string
 * and are always plain string values, never keys, so no operator can slip in.
 *
 * BEDS writes `at` as text `YYYY-MM-DD HH:MM:SS.mmm` (UTC), which sorts and
 * compares by time, `root` as the first segment of the event id, and `doc`
 * as the event object.
 *
 * @module
 */
import { type Document, MongoClient, type MongoClientOptions, type Sort } from "mongodb";
import type { ObserverConfig } from "./config.ts";
import {
  fromStore,
  type LogRecord,
  type LogSource,
  plainDoc,
  type RecordFilter,
  storedTime,
} from "./source.ts";

/**
 * Records of one millisecond a page cursor can tell apart. A cursor is
 * `ms * CURSOR_SLOTS + shown`, where `shown` counts the records of that
 * millisecond already listed; it stays a safe integer until the year 2248.
 */
export const CURSOR_SLOTS = 1024;

/** Newest first; the event id breaks ties so that pages are stable. */
export const RECENT_SORT: Sort = { at: -1, event: -1 };

/** Oldest first, as a chain is read. */
export const CHAIN_SORT: Sort = { at: 1, event: 1 };

function msTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace("T", " ");
}

/** Milliseconds of a stored `at` (text or Date); NaN when unreadable. */
function msOf(at: unknown): number {
  if (at instanceof Date) return at.getTime();
  if (typeof at !== "string") return NaN;
  return Date.parse(at.includes("T") ? at : `${at.replace(" ", "T")}Z`);
}

/** The filter of the event list, without the page cursor. */
export function recordFilter(filter: RecordFilter): Document {
  const terms: Document[] = [];
  for (const field of ["node", "level", "kind", "template", "code"] as const) {
    const value = filter[field];
    if (value) terms.push({ [field]: String(value) });
  }
  // As statusOf says; `null` matches a null code and a document without one.
  if (filter.status === "ok") terms.push({ code: null, level: "info" });
  if (filter.status === "error") terms.push({ $or: [{ code: { $ne: null } }, { level: "error" }] });
  // BEDS writes `at` as the same text (storedTime), so text order is time order.
  const since = storedTime(filter.since);
  const until = storedTime(filter.until);
  if (since) terms.push({ at: { $gte: since } });
  if (until) terms.push({ at: { $lt: until } });
  return and(terms);
}

function and(terms: Document[]): Document {
  return terms.length === 0 ? {} : terms.length === 1 ? terms[0]! : { $and: terms };
}

/** Where a page starts: the millisecond of the last record shown and how many of it were shown. */
export function decodeCursor(before: number): { at: string; shown: number } | undefined {
  if (!Number.isSafeInteger(before) || before <= 0) return undefined;
  return { at: msTime(Math.floor(before / CURSOR_SLOTS)), shown: before % CURSOR_SLOTS };
}

/** One `find` of a page. */
export interface PageQuery {
  filter: Document;
  sort: Sort;
  skip: number;
}

/**
 * The finds of one page of the event list, run in order until the page is
 * full: without a cursor, the newest records; with one, the rest of the
 * cursor's millisecond, then everything older.
 */
export function pageQueries(filter: RecordFilter): PageQuery[] {
  const base = recordFilter(filter);
  const cursor = filter.before === undefined ? undefined : decodeCursor(filter.before);
  if (!cursor) return [{ filter: base, sort: RECENT_SORT, skip: 0 }];
  const within = (term: Document) => and([...(Object.keys(base).length ? [base] : []), term]);
  return [
    { filter: within({ at: cursor.at }), sort: { event: -1 }, skip: cursor.shown },
    { filter: within({ at: { $lt: cursor.at } }), sort: RECENT_SORT, skip: 0 },
  ];
}

/** The filter of a chain: every document of the chain root `event` belongs to. */
export function chainFilter(event: string): Document {
  const root = event.split(".", 1)[0]!;
  return { $or: [{ root }, { event: root }] };
}

/** A stored document as a record; `id` is the page cursor that continues after it. */
export function documentRecord(doc: Document, id: number): LogRecord {
  const s = (v: unknown) => v === null || v === undefined ? null : String(v);
  const n = (v: unknown) => {
    if (v === null || v === undefined || v === "") return null;
    const x = Number(v);
    return Number.isFinite(x) ? x : null;
  };
  const ms = msOf(doc.at);
  return {
    id,
    event: String(doc.event ?? ""),
    parent: s(doc.parent),
    kind: String(doc.kind ?? ""),
    level: String(doc.level ?? ""),
    at: Number.isNaN(ms) ? String(doc.at ?? "") : new Date(ms).toISOString(),
    node: String(doc.node ?? ""),
    broker: s(doc.broker),
    template: s(doc.template),
    op: s(doc.op),
    code: s(doc.code),
    action: s(doc.action),
    attempt: n(doc.attempt),
    ms: n(doc.ms),
    rows: n(doc.rows),
    message: s(doc.message),
    doc: plainDoc(doc.doc),
  };
}

/**
 * Records of a page of the event list with their cursors. `carry` is the
 * cursor the page started from: its millisecond's count goes on.
 */
export function pageRecords(docs: readonly Document[], carry?: { at: string; shown: number }): LogRecord[] {
  let group = carry ? Date.parse(`${carry.at.replace(" ", "T")}Z`) : NaN;
  let shown = carry?.shown ?? 0;
  return docs.map((doc) => {
    const ms = msOf(doc.at);
    if (ms !== group) {
      group = ms;
      shown = 0;
    }
    shown++;
    // A cursor cannot count past its slots: beyond that a page may repeat a few records.
    const id = Number.isNaN(ms) ? 0 : ms * CURSOR_SLOTS + Math.min(shown, CURSOR_SLOTS - 1);
    return documentRecord(doc, id);
  });
}

/**
 * The client's settings. `socketTimeoutMS`: a connection that hears nothing for longer than a find
 * may take (a stalled network) is closed and the pool opens another, instead of holding it for good.
 */
export function clientOptions(config: ObserverConfig["mongodb"], queryTimeoutMs: number): MongoClientOptions {
  return {
    appName: "beds-observer",
    maxPoolSize: 2,
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 3000,
    socketTimeoutMS: queryTimeoutMs + 5000,
    // Sent once: resent after the socket timeout, a page would wait twice as long for a silent server.
    retryReads: false,
    // Reads may come from a secondary: the observer must not add load to the primary BEDS writes to.
    readPreference: "secondaryPreferred",
    ...(config.tlsCaFile ? { tls: true, tlsCAFile: config.tlsCaFile } : {}),
  };
}

/**
 * Opens a small client for reading the log store's collection. Every find ends on the server after
 * `queryTimeoutMs` (`maxTimeMS`: a filter on a field without an index scans the collection).
 */
export function createMongodbSource(config: ObserverConfig["mongodb"], queryTimeoutMs: number): LogSource {
  const client = new MongoClient(config.url, clientOptions(config, queryTimeoutMs));
  const collection = client.db(config.database).collection(config.collection);
  const find = (query: PageQuery, limit: number, signal?: AbortSignal) =>
    fromStore(() =>
      collection.find(query.filter, {
        projection: { _id: 0 },
        sort: query.sort,
        skip: query.skip,
        limit,
        maxTimeMS: queryTimeoutMs,
        // A reader that went away ends its find (the driver closes the connection it ran on).
        ...(signal ? { signal } : {}),
      }).toArray()
    );

  return {
    async recent(filter, limit, signal) {
      const docs: Document[] = [];
      for (const query of pageQueries(filter)) {
        if (docs.length >= limit) break;
        docs.push(...await find(query, limit - docs.length, signal));
      }
      return pageRecords(docs, filter.before === undefined ? undefined : decodeCursor(filter.before));
    },
    async chain(event, limit, signal) {
      const docs = await find({ filter: chainFilter(event), sort: CHAIN_SORT, skip: 0 }, limit, signal);
      return docs.map((doc, i) => documentRecord(doc, i + 1));
    },
    async events(ids, signal) {
      if (ids.length === 0) return [];
      // The ids are checked event ids (server.ts), strings in `$in`: no operator can come in.
      const docs = await find(
        { filter: { event: { $in: [...ids] } }, sort: CHAIN_SORT, skip: 0 },
        ids.length,
        signal,
      );
      return docs.map((doc, i) => documentRecord(doc, i + 1));
    },
    close: () => client.close(),
  };
}
