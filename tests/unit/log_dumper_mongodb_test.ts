import assert from "node:assert/strict";
import {
  chainFilter,
  CURSOR_SLOTS,
  decodeCursor,
  documentRecord,
  pageQueries,
  pageRecords,
  recordFilter,
} from "../../utilities/log_dumper/mongodb_source.ts";
import { observerConfig } from "../../utilities/log_dumper/config.ts";
import { type LogRecord, type RecordFilter, storedTime } from "../../utilities/log_dumper/source.ts";

type Doc = Record<string, unknown>;

/** Just enough of MongoDB's matching for the filters the source builds (equality, $and, $or, $lt, $gte, $ne). */
function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === "$and") return (cond as Doc[]).every((f) => matches(doc, f));
    if (key === "$or") return (cond as Doc[]).some((f) => matches(doc, f));
    const value = doc[key] ?? null;
    if (cond === null || typeof cond !== "object") return value === cond;
    return Object.entries(cond as Doc).every(([op, arg]) => {
      if (op === "$ne") return value !== arg;
      if (op === "$lt") return typeof value === "string" && value < (arg as string);
      if (op === "$gte") return typeof value === "string" && value >= (arg as string);
      throw new Error(`operator ${op} not emulated`);
    });
  });
}

/** `find(filter).sort(sort).skip(skip).limit(limit)` over an array. */
function find(docs: Doc[], query: { filter: Doc; sort: unknown; skip: number }, limit: number): Doc[] {
  const sort = Object.entries(query.sort as Record<string, 1 | -1>);
  return docs.filter((d) => matches(d, query.filter))
    .sort((a, b) => {
      for (const [field, dir] of sort) {
        const x = String(a[field]), y = String(b[field]);
        if (x !== y) return x < y ? -dir : dir;
      }
      return 0;
    })
    .slice(query.skip, query.skip + limit);
}

/** What the source's `recent()` does, over an array. */
function recent(docs: Doc[], filter: RecordFilter, limit: number): LogRecord[] {
  const page: Doc[] = [];
  for (const query of pageQueries(filter)) {
    if (page.length >= limit) break;
    page.push(...find(docs, query, limit - page.length));
  }
  return pageRecords(page, filter.before === undefined ? undefined : decodeCursor(filter.before));
}

function stored(event: string, at: string, extra: Doc = {}): Doc {
  return {
    event,
    parent: null,
    root: event.split(".", 1)[0],
    kind: "request",
    level: "info",
    at,
    node: "n1",
    broker: "rBroker",
    template: "prd",
    op: "read",
    code: null,
    action: "reply",
    attempt: 1,
    ms: 2.5,
    rows: 1,
    message: null,
    doc: { kind: "request", event },
    ...extra,
  };
}

Deno.test("recordFilter() turns the observer's filters into a MongoDB filter of plain values", async (t) => {
  await t.step("no filter matches everything", () => {
    assert.deepEqual(recordFilter({}), {});
  });
  await t.step("one field is a plain equality", () => {
    assert.deepEqual(recordFilter({ node: "n1" }), { node: "n1" });
  });
  await t.step("fields, status and times combine with $and; times as BEDS stores them", () => {
    assert.deepEqual(
      recordFilter({
        node: "n1",
        level: "error",
        kind: "request",
        template: "prd",
        code: "TIMEOUT",
        status: "error",
        since: "2026-01-02T03:04",
        until: "2026-01-02T04:00:00.5Z",
      }),
      {
        $and: [
          { node: "n1" },
          { level: "error" },
          { kind: "request" },
          { template: "prd" },
          { code: "TIMEOUT" },
          { $or: [{ code: { $ne: null } }, { level: "error" }] },
          { at: { $gte: "2026-01-02 03:04:00.000" } },
          { at: { $lt: "2026-01-02 04:00:00.500" } },
        ],
      },
    );
  });
  await t.step("status ok means level info and no code; an unreadable time is ignored", () => {
    assert.deepEqual(recordFilter({ status: "ok", since: "yesterday" }), { code: null, level: "info" });
  });
  await t.step("a value that looks like an operator stays a string", () => {
    assert.deepEqual(recordFilter({ node: '{"$ne":null}' }), { node: '{"$ne":null}' });
  });
  await t.step("storedTime() writes the text BEDS stores in `at`", () => {
    assert.equal(storedTime("2026-05-06T07:08:09.010+02:00"), "2026-05-06 05:08:09.010");
    assert.equal(storedTime(undefined), undefined);
  });
});

Deno.test("pageQueries() pages newest first and continues inside a millisecond", async (t) => {
  await t.step("the first page is one find, newest first", () => {
    assert.deepEqual(pageQueries({ kind: "ipl" }), [
      { filter: { kind: "ipl" }, sort: { at: -1, event: -1 }, skip: 0 },
    ]);
  });
  await t.step("a cursor reads the rest of its millisecond, then everything older", () => {
    const ms = Date.parse("2026-01-02T03:04:05.678Z");
    assert.deepEqual(pageQueries({ node: "n1", before: ms * CURSOR_SLOTS + 3 }), [
      {
        filter: { $and: [{ node: "n1" }, { at: "2026-01-02 03:04:05.678" }] },
        sort: { event: -1 },
        skip: 3,
      },
      {
        filter: { $and: [{ node: "n1" }, { at: { $lt: "2026-01-02 03:04:05.678" } }] },
        sort: { at: -1, event: -1 },
        skip: 0,
      },
    ]);
  });
  await t.step("a cursor that is no positive integer is ignored", () => {
    assert.equal(decodeCursor(0), undefined);
    assert.equal(decodeCursor(1.5), undefined);
    assert.equal(pageQueries({ before: -4 }).length, 1);
  });
});

Deno.test("paging by cursor lists every record once, even many in one millisecond", () => {
  const docs: Doc[] = [];
  // 7 records in one millisecond, straddling page boundaries, between single ones; one error.
  for (let i = 0; i < 5; i++) docs.push(stored(`a${i}`, `2026-01-02 03:04:05.${String(100 + i)}`));
  for (let i = 0; i < 7; i++) docs.push(stored(`b${i}`, "2026-01-02 03:04:05.200"));
  for (let i = 0; i < 4; i++) docs.push(stored(`c${i}`, `2026-01-02 03:04:05.${String(300 + i)}`));
  docs.push(stored("x1", "2026-01-02 03:04:05.200", { node: "n2" }));
  const seen: string[] = [];
  let before: number | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = recent(docs, { node: "n1", before }, 3);
    seen.push(...page.map((r) => r.event));
    if (page.length < 3) break;
    before = page[page.length - 1]!.id;
    assert.ok(Number.isSafeInteger(before) && before > 0, "the cursor fits the observer's `before`");
  }
  const expected = docs.filter((d) => d.node === "n1")
    .sort((a, b) =>
      a.at === b.at ? (a.event! < b.event! ? 1 : -1) : (a.at as string) < (b.at as string) ? 1 : -1
    )
    .map((d) => d.event as string);
  assert.deepEqual(seen, expected);
  assert.equal(new Set(seen).size, 16);
});

Deno.test("chainFilter() selects a chain by its root id", () => {
  const root = "01JABCDEFGHJKMNPQRSTVWXYZ0";
  assert.deepEqual(chainFilter(`${root}.r2.3`), { $or: [{ root }, { event: root }] });
  assert.deepEqual(chainFilter(root), { $or: [{ root }, { event: root }] });
  const docs = [stored(root, "2026-01-01 00:00:00.000"), stored(`${root}.1`, "2026-01-01 00:00:00.004")];
  docs.push(stored("OTHER.1", "2026-01-01 00:00:00.002"));
  assert.deepEqual(docs.filter((d) => matches(d, chainFilter(`${root}.1`))).map((d) => d.event), [
    root,
    `${root}.1`,
  ]);
});

Deno.test("documentRecord() maps a stored document to the observer's record", async (t) => {
  await t.step("as BEDS writes it", () => {
    const record = documentRecord(
      stored("E.1", "2026-01-02 03:04:05.678", { code: "TIMEOUT", message: "slow", rows: null }),
      7,
    );
    assert.deepEqual(record, {
      id: 7,
      event: "E.1",
      parent: null,
      kind: "request",
      level: "info",
      at: "2026-01-02T03:04:05.678Z",
      node: "n1",
      broker: "rBroker",
      template: "prd",
      op: "read",
      code: "TIMEOUT",
      action: "reply",
      attempt: 1,
      ms: 2.5,
      rows: null,
      message: "slow",
      doc: { kind: "request", event: "E.1" },
    });
  });
  await t.step("missing fields, a Date, a doc as text and odd numbers", () => {
    const record = documentRecord({
      event: "E",
      kind: "ipl",
      at: new Date("2026-01-02T03:04:05.678Z"),
      doc: '{"steps":[]}',
      attempt: "x",
      ms: "12",
    }, 1);
    assert.equal(record.at, "2026-01-02T03:04:05.678Z");
    assert.deepEqual(record.doc, { steps: [] });
    assert.equal(record.parent, null);
    assert.equal(record.broker, null);
    assert.equal(record.attempt, null);
    assert.equal(record.ms, 12);
    assert.equal(documentRecord({ event: "E", doc: "{broken" }, 1).doc.steps, undefined);
  });
});

Deno.test("observerConfig() reads the MongoDB settings", async (t) => {
  await t.step("MariaDB stays the default store", () => {
    const config = observerConfig({});
    assert.equal(config.store, "mariadb");
    assert.deepEqual(config.mongodb, {
      url: "mongodb://127.0.0.1:27017",
      database: "logs",
      collection: "msLogs",
    });
  });
  await t.step("from the file, the environment winning", () => {
    const config = observerConfig(
      { LOG_DUMPER_STORE: "mongodb", LOG_DUMPER_MONGODB_URL: "mongodb://ro:pw@db:27017" },
      'store = "mariadb"\n[mongodb]\nurl = "mongodb://file"\ndatabase = "beds_logs"\ntls_ca_file = "/ca.pem"\n',
    );
    assert.equal(config.store, "mongodb");
    assert.deepEqual(config.mongodb, {
      url: "mongodb://ro:pw@db:27017",
      database: "beds_logs",
      collection: "msLogs",
      tlsCaFile: "/ca.pem",
    });
  });
  await t.step("LOG_DUMPER_MONGODB_DATABASE names the database", () => {
    assert.equal(observerConfig({ LOG_DUMPER_MONGODB_DATABASE: "x" }).mongodb.database, "x");
  });
  await t.step("an unknown store names the setting", () => {
    assert.throws(() => observerConfig({ LOG_DUMPER_STORE: "postgres" }), /Invalid observer setting store/);
  });
});
