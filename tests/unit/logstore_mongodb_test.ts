import assert from "node:assert/strict";
import type { Adapter, AdapterResult } from "../../src/adapters/mod.ts";
import { documentOf, identityOf, plainDocument, readFilter, sortOf } from "../../src/adapters/mongodb/mod.ts";
import { BedsError } from "../../src/errors.ts";
import { followLagMs, type FollowMark, followSince, storedAfter, unseen } from "../../src/cli/logs_follow.ts";
import {
  CHAIN_LIMIT,
  createLogStore,
  loadLogStoreTemplate,
  type LogRow,
  type LogStore,
  PartialWriteError,
  type RequestEvent,
  type StoredEvent,
  toLogRow,
} from "../../src/logstore/mod.ts";
import { sinceCut } from "../../src/logstore/store.ts";
import { requestEvent } from "../helpers/log_events.ts";

type Doc = Record<string, unknown>;

/**
 * The MongoDB adapter's own filter, sort and document builders over an
 * in-memory collection (no MongoDB server here): what the template allows
 * is checked exactly as the adapter checks it.
 */
function memoryMongo() {
  const docs: Doc[] = [];
  const reads: Array<{ filter: Doc; sort: Array<[string, 1 | -1]>; limit: number }> = [];
  const adapter: Adapter = {
    store: "mongodb",
    create({ template, values }) {
      const spec = template.ops.create!;
      const doc = documentOf({ template, values, fields: [...spec.params, ...identityOf(template)] });
      docs.push(doc);
      return Promise.resolve({ data: plainDocument(doc, template), rows: 1 });
    },
    read({ template, where, order, limit, offset }): Promise<AdapterResult> {
      const spec = template.ops.read!;
      const filter = readFilter({ where, whereFields: spec.where });
      const sort = sortOf(order, spec.order);
      reads.push({ filter, sort, limit });
      const matches = (value: unknown, want: unknown) =>
        typeof want === "object" && want !== null && "$in" in want
          ? (want.$in as unknown[]).includes(value)
          : value === want;
      const found = docs.filter((d) => Object.entries(filter).every(([k, v]) => matches(d[k] ?? null, v)))
        .sort((a, b) => {
          for (const [field, dir] of sort) {
            const x = String(a[field]), y = String(b[field]);
            if (x !== y) return x < y ? -dir : dir;
          }
          return 0;
        })
        .slice(offset, offset + limit)
        .map((doc) => plainDocument(doc, template));
      return Promise.resolve({ data: found, rows: found.length });
    },
    update: () => Promise.reject(new Error("not used")),
    delete: () => Promise.reject(new Error("not used")),
    call: () => Promise.reject(new BedsError("OP_NOT_ALLOWED", "no named calls on mongodb")),
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
  return { adapter, docs, reads };
}

function request(event: string, at: string, overrides: Partial<RequestEvent> = {}): RequestEvent {
  return requestEvent({ event, at, node: "n1", ...overrides });
}

async function mongoStore() {
  const memory = memoryMongo();
  const template = await loadLogStoreTemplate({
    dir: "templates/logstore",
    store: "mongodb",
    database: "logs",
  });
  const store = createLogStore({ adapter: memory.adapter, template });
  const events = [
    request("R1", "2026-01-02T03:00:00.000Z"),
    request("R1.1", "2026-01-02T03:00:00.010Z", { node: "n2", code: "TIMEOUT", action: "retry" }),
    request("R1.1.r2", "2026-01-02T03:00:00.050Z", { node: "n2", attempt: 2, user: "u1" }),
    request("R2", "2026-01-02T03:00:01.000Z", { template: "cus" }),
    request("R10", "2026-01-02T03:00:02.000Z"),
  ];
  await store.write(events.map((e) => toLogRow(e, e.event)));
  return { ...memory, store };
}

Deno.test("the log store reads MongoDB through the adapter: equality filters, newest first", async (t) => {
  const { store, reads, docs } = await mongoStore();
  await t.step("records are documents with root, time text and the rest of the event as JSON text", () => {
    const doc = docs.find((d) => d.event === "R1.1.r2")!;
    assert.equal(doc.root, "R1");
    assert.equal(doc.at, "2026-01-02 03:00:00.050");
    // Text, so that no key of an event can be taken for an operator by MongoDB.
    assert.deepEqual(JSON.parse(doc.doc as string), { user: "u1" });
  });
  await t.step("tail filters by equality on the template's fields and orders by time", async () => {
    const records = await store.tail({ node: "n2", kind: "request", limit: 10 });
    assert.deepEqual(records.map((r) => r.event), ["R1.1.r2", "R1.1"]);
    assert.deepEqual(reads.at(-1), {
      filter: { node: "n2", kind: "request" },
      sort: [["at", -1]],
      limit: 10,
    });
    assert.equal(records[0]!.at, "2026-01-02T03:00:00.050Z");
    assert.equal(records[1]!.code, "TIMEOUT");
    assert.equal(records[0]!.attempt, 2);
    assert.deepEqual(records[0]!.doc, { user: "u1" });
  });
  await t.step("level, template and code filter too", async () => {
    assert.deepEqual((await store.tail({ code: "TIMEOUT" })).map((r) => r.event), ["R1.1"]);
    assert.deepEqual((await store.tail({ template: "cus" })).map((r) => r.event), ["R2"]);
    assert.deepEqual((await store.tail({ level: "warn" })).map((r) => r.event), ["R1.1"]);
  });
  await t.step("since cuts the newest-first page", async () => {
    const records = await store.tail({ since: "2026-01-02T03:00:00.050Z" });
    assert.deepEqual(records.map((r) => r.event), ["R10", "R2", "R1.1.r2"]);
    assert.ok(!("at" in reads.at(-1)!.filter), "the time is not sent as an equality filter");
  });
  await t.step("a chain is read by its root, oldest first, without its namesakes", async () => {
    const { records, cut } = await store.chain("R1.1");
    assert.deepEqual(records.map((r) => r.event), ["R1", "R1.1", "R1.1.r2"]);
    assert.equal(cut, false);
    assert.deepEqual(reads.at(-1)!.filter, { root: "R1" });
  });
});

Deno.test("a chain past CHAIN_LIMIT records on MongoDB is cut, and still holds the event asked for and its lineage", async () => {
  const { store, reads } = await mongoStore();
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 3) + ms).toISOString();
  // L, then L.1 … L.(limit + 5), then a retry of the last-but-one, all in time order.
  const events = [request("L", at(0))];
  for (let i = 1; i <= CHAIN_LIMIT + 5; i++) events.push(request(`L.${i}`, at(i)));
  const wanted = `L.${CHAIN_LIMIT + 4}.r2`;
  events.push(request(wanted, at(CHAIN_LIMIT + 10)));
  await store.write(events.map((e) => toLogRow(e, e.event)));

  const { records, cut } = await store.chain(wanted);
  assert.equal(cut, true);
  assert.equal(reads.at(-2)!.limit, CHAIN_LIMIT + 1, "one more than it holds, to tell a cut");
  assert.deepEqual(reads.at(-1)!.filter, { event: { $in: [wanted, `L.${CHAIN_LIMIT + 4}`] } });
  assert.equal(records.length, CHAIN_LIMIT + 2);
  assert.deepEqual(records.slice(0, 2).map((r) => r.event), ["L", "L.1"]);
  assert.deepEqual(records.slice(-3).map((r) => r.event), [
    `L.${CHAIN_LIMIT - 1}`,
    `L.${CHAIN_LIMIT + 4}`,
    wanted,
  ]);

  const whole = await store.chain("R1");
  assert.equal(whole.cut, false, "a short chain is whole");
});

Deno.test("sinceCut() keeps the records at or after a time", () => {
  const at = (t: string) => ({ at: t }) as StoredEvent;
  const records = [
    at("2026-01-02T03:00:02.000Z"),
    at("2026-01-02T03:00:01.000Z"),
    at("2026-01-02T03:00:00Z"),
  ];
  assert.equal(sinceCut(records, "2026-01-02T03:00:01Z").length, 2);
  assert.equal(sinceCut(records, undefined).length, 3);
  assert.equal(sinceCut(records, "not a time").length, 3);
});

Deno.test("unseen() prints each record once while following a store without ids", () => {
  const r = (event: string, at: string) => ({ event, at }) as StoredEvent;
  const mark: FollowMark = { seen: new Map(), lagMs: 5000 };
  const first = unseen([r("B", "2026-01-01T00:00:01.000Z"), r("A", "2026-01-01T00:00:00.000Z")], mark);
  assert.deepEqual(first.map((x) => x.event), ["A", "B"], "oldest first");
  assert.equal(mark.at, "2026-01-01T00:00:01.000Z");
  // The next poll reads back over the lag: B again, plus C at the same time and D later.
  assert.equal(followSince(mark), "2025-12-31T23:59:56.000Z");
  const next = unseen([
    r("D", "2026-01-01T00:00:02.000Z"),
    r("C", "2026-01-01T00:00:01.000Z"),
    r("B", "2026-01-01T00:00:01.000Z"),
  ], mark);
  assert.deepEqual(next.map((x) => x.event), ["C", "D"]);
  assert.deepEqual(unseen([r("D", "2026-01-01T00:00:02.000Z")], mark), []);
});

Deno.test("unseen() prints a record stored after newer ones (a slow request, a batch that waited)", () => {
  const r = (event: string, at: string) => ({ event, at }) as StoredEvent;
  const mark: FollowMark = { seen: new Map(), lagMs: 5000 };
  unseen([r("B", "2026-01-01T00:00:03.000Z"), r("A", "2026-01-01T00:00:01.000Z")], mark);
  // E has an older time than B but reached the store only now.
  const late = unseen([
    r("B", "2026-01-01T00:00:03.000Z"),
    r("E", "2026-01-01T00:00:02.500Z"),
    r("A", "2026-01-01T00:00:01.000Z"),
  ], mark);
  assert.deepEqual(late.map((x) => x.event), ["E"]);
  // What falls out of the lag is forgotten: the map stays as small as the window.
  unseen([r("F", "2026-01-01T00:00:09.000Z")], mark);
  assert.deepEqual([...mark.seen.keys()].sort(), ["F"]);
  assert.equal(followSince(mark), "2026-01-01T00:00:04.000Z");
  // A --since later than the lag's start wins.
  assert.equal(followSince(mark, "2026-01-01T00:00:05.000Z"), "2026-01-01T00:00:05.000Z");
  assert.equal(followLagMs(100), 5000);
  assert.equal(followLagMs(2000), 20000);
});

Deno.test("a MongoDB log batch that fails part-way reports what it stored, so nothing is stored twice", async (t) => {
  const memory = memoryMongo();
  const template = await loadLogStoreTemplate({
    dir: "templates/logstore",
    store: "mongodb",
    database: "logs",
  });
  let failOnce = "R2";
  const create = memory.adapter.create.bind(memory.adapter);
  memory.adapter.create = (input) => {
    if (input.values.get("event") === failOnce) {
      failOnce = "";
      return Promise.reject(new BedsError("DB_UNAVAILABLE", "connection reset"));
    }
    return create(input);
  };
  const store = createLogStore({ adapter: memory.adapter, template });
  const rows = ["R1", "R2", "R3"].map((id) => toLogRow(request(id, "2026-01-02T03:00:00.000Z"), id));
  let rest = rows;
  await t.step("the failed insert fails the batch, which says what was stored", async () => {
    const error = await store.write(rows).then(() => undefined, (e) => e);
    assert.ok(error instanceof PartialWriteError, String(error));
    assert.match(error.message, /connection reset/);
    assert.deepEqual(error.stored.map((r: LogRow) => r.event), ["R1", "R3"]);
    assert.deepEqual(memory.docs.map((d) => d.event), ["R1", "R3"]);
    rest = rows.filter((r) => !error.stored.includes(r));
  });
  await t.step("the writer tries again only the rest", async () => {
    await store.write(rest);
    assert.deepEqual(memory.docs.map((d) => d.event).sort(), ["R1", "R2", "R3"]);
  });
  await t.step("a record its template refuses fails the batch before anything is written", async () => {
    const bad = toLogRow(request("R5", "2026-01-02T03:00:00.000Z", { node: "n".repeat(200) }), "R5");
    const fresh = toLogRow(request("R4", "2026-01-02T03:00:00.000Z"), "R4");
    await assert.rejects(() => store.write([fresh, bad]), BedsError);
    assert.equal(memory.docs.length, 3, "R4 was not inserted either");
  });
});

Deno.test("storedAfter() reads every record since the last poll, oldest first, past a full page", async () => {
  // A store answering as sp_mst_tail does: ids above `after` (and below `before`), newest first.
  const rows: StoredEvent[] = Array.from({ length: 2_500 }, (_, i) => ({
    ...toLogRow(request(`R${i + 1}`, "2026-01-02T03:00:00.000Z"), `R${i + 1}`),
    id: i + 1,
    doc: {},
  } as StoredEvent));
  const asked: Array<{ after?: number; before?: number }> = [];
  const store = {
    tail(filter: { after?: number; before?: number; limit?: number }) {
      asked.push({ after: filter.after, before: filter.before });
      const found = rows.filter((r) =>
        r.id! > (filter.after ?? 0) && (filter.before === undefined || r.id! < filter.before)
      ).reverse().slice(0, filter.limit);
      return Promise.resolve(found);
    },
  } as unknown as LogStore;
  const got = await storedAfter(store, {}, 300, 1000);
  assert.equal(got.length, 2_200);
  assert.deepEqual(got.map((r) => r.id).slice(0, 3), [301, 302, 303]);
  assert.equal(got.at(-1)!.id, 2_500);
  assert.deepEqual(asked, [{ after: 300, before: undefined }, { after: 300, before: 1501 }, {
    after: 300,
    before: 501,
  }]);
  assert.deepEqual(await storedAfter(store, {}, 2_500, 1000), []);
});
