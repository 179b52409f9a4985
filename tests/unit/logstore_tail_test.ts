/**
 * A tail answers the same whether a fan-out's parts were folded into their parent's record or
 * stored one record each, whatever the filter and however the store compares text; and a tail of
 * the admin role's store is as long as asked, however few rows the admin node answers a read.
 */
import assert from "node:assert/strict";
import {
  type AdminRequester,
  createAmqpLogStore,
  createBatchWriter,
  createLogStore,
  createLogStoreSink,
  eventsIn,
  loadLogStoreTemplate,
  type LogEvent,
  type LogRow,
  type TailFilter,
} from "../../src/logstore/mod.ts";
import type { Adapter } from "../../src/adapters/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";

/** utf8mb4_unicode_ci, near enough for these names: case, accents and trailing spaces ignored. */
const collator = new Intl.Collator("und", { sensitivity: "base" });
const sameText = (a: unknown, b: string) =>
  typeof a === "string" && collator.compare(a.replace(/ +$/, ""), b.replace(/ +$/, "")) === 0;

const COLUMNS = [
  "event",
  "parent",
  "kind",
  "level",
  "at",
  "node",
  "broker",
  "template",
  "op",
  "code",
  "action",
  "attempt",
  "ms",
  "nrows",
  "message",
  "doc",
];

/**
 * An in-memory `ms_logs` with sp_mst_log_rows and sp_mst_tail as lab/sql/005_logstore.sql has them:
 * records by id, each text filter compared as MariaDB's collation compares it.
 */
function memoryMariadb(): Adapter {
  const rows: Array<Record<string, unknown>> = [];
  const fail = () => Promise.reject(new Error("not used"));
  return {
    store: "mariadb",
    call: ({ values }) => {
      for (const tuple of JSON.parse(values.get("records") as string) as unknown[][]) {
        rows.push({ id: rows.length + 1, ...Object.fromEntries(COLUMNS.map((c, i) => [c, tuple[i]])) });
      }
      return Promise.resolve({ data: [], rows: 0 });
    },
    read: ({ params }) => {
      const data = rows.filter((row) =>
        ["node", "level", "kind", "template", "code"].every((field) =>
          params.get(field) === undefined || sameText(row[field], params.get(field) as string)
        )
      ).reverse().slice(0, params.get("max_rows") as number);
      return Promise.resolve({ data, rows: data.length });
    },
    create: fail,
    update: fail,
    delete: fail,
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
}

/** Fan-outs that succeeded, failed and were retried, on nodes whose names differ in case and accent. */
const EVENTS: LogEvent[] = [
  fanOutEvent("f1-n-b-1", [{ template: "prd" }, { template: "dsh" }, {
    code: "NOT_FOUND",
    message: "no row",
  }], {
    node: "node-ä",
  }),
  fanOutEvent("f2-n-b-1", [{}, {}, { code: "NOT_FOUND", message: "gone" }], {
    node: "node-a",
    code: "NOT_FOUND",
    message: "part 3",
  }),
  fanOutEvent("f3-n-b-1", [{}, { template: "dsh" }], {
    node: "Node-A",
    code: "DB_UNAVAILABLE",
    message: "down",
    action: "retry",
  }),
  requestEvent({ event: "r1-n-b-1", node: "node-a" }),
];

async function storeOf(foldParts: boolean) {
  const template = await loadLogStoreTemplate({
    dir: "templates/logstore",
    store: "mariadb",
    database: "lab",
  });
  const store = createLogStore({ adapter: memoryMariadb(), template });
  let stored = 0;
  const writer = createBatchWriter<LogRow>({
    write: (rows) => {
      stored += rows.length;
      return store.write(rows);
    },
    batchSize: 100,
    flushMs: 60_000,
    capacity: 1000,
    weight: eventsIn,
  });
  const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts });
  for (const event of EVENTS) sink.emit(event);
  await writer.close();
  return { store, stored };
}

Deno.test("a tail answers alike whether a fan-out's parts were folded or not, for any filter", async (t) => {
  const folded = await storeOf(true);
  const plain = await storeOf(false);
  assert.ok(folded.stored < plain.stored, "the successful fan-out was folded");
  const filters: TailFilter[] = [
    {},
    { level: "info" },
    { level: "error" },
    { level: "warn" },
    { code: "NOT_FOUND" },
    { kind: "request" },
    { template: "dsh" },
    { template: "DSH " },
    { node: "NODE-A" },
    { node: "node-ä", level: "info" },
    { node: "Node-A", template: "Dsh" },
  ];
  for (const filter of filters) {
    await t.step(JSON.stringify(filter), async () => {
      const events = async (store: typeof folded.store) =>
        (await store.tail({ ...filter, limit: 100 })).map((r) => r.event).sort();
      const want = await events(plain.store);
      assert.ok(want.length > 0);
      assert.deepEqual(await events(folded.store), want);
    });
  }
});

Deno.test("createLogStoreSink({ foldParts }) folds parts only into a record of level info", async (t) => {
  const rowsOf = async (event: LogEvent) => {
    const rows: LogRow[] = [];
    const writer = createBatchWriter<LogRow>({
      write: (batch) => Promise.resolve(void rows.push(...batch)),
      batchSize: 100,
      flushMs: 60_000,
      capacity: 1000,
    });
    createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts: true }).emit(event);
    await writer.close();
    return rows.map((r) => [r.event, r.level, r.parts?.length ?? 0]);
  };
  await t.step("a fan-out that succeeded: one record, its successful parts in it", async () => {
    assert.deepEqual(await rowsOf(fanOutEvent("a", [{}, {}, { code: "NOT_FOUND", message: "x" }])), [
      ["a", "info", 2],
      ["a.3", "error", 0],
    ]);
  });
  await t.step("a fan-out that failed: a record for each part", async () => {
    assert.deepEqual(await rowsOf(fanOutEvent("b", [{}, {}], { code: "NOT_FOUND", message: "x" })), [
      ["b", "error", 0],
      ["b.1", "info", 0],
      ["b.2", "info", 0],
    ]);
  });
  await t.step("a fan-out to be retried: a record for each part", async () => {
    const retried = fanOutEvent("c", [{}], { code: "DB_UNAVAILABLE", message: "x", action: "retry" });
    assert.deepEqual(await rowsOf(retried), [["c", "warn", 0], ["c.1", "info", 0]]);
  });
});

/** The admin node's `read.mst` over `stored` ids 1..n (newest first), refusing a limit past `maxRead`. */
function adminNode(stored: number, maxRead: number) {
  const reads: number[] = [];
  const meta = { event: "x", node: "admin", broker: "adminLogsBroker", ms: 0, rows: 0 };
  const row = (id: number) => ({
    id,
    event: `e${id}-n-b-1`,
    parent: null,
    kind: "request",
    level: "info",
    at: "2025-01-02 03:04:05.678",
    node: "n",
    template: "dsh",
    op: "read",
    doc: id % 10 === 0 ? JSON.stringify({ parts: [["1", "prd", "read", null, 1, 1]] }) : "{}",
  });
  const client: AdminRequester = {
    request(body) {
      const { where = {}, limit = 100 } = body as { where?: Record<string, number>; limit?: number };
      reads.push(limit);
      if (limit > maxRead) {
        return Promise.resolve<Reply>({
          ok: false,
          error: { code: "VALIDATION", message: `Limit ${limit} exceeds the maximum of ${maxRead}` },
          meta,
        });
      }
      const data = [];
      for (let id = Math.min(stored, (where.before ?? Infinity) - 1); id > (where.after ?? 0); id--) {
        if (data.length === where.max_rows) break;
        data.push(row(id));
      }
      return Promise.resolve<Reply>({ ok: true, data, meta: { ...meta, rows: data.length } });
    },
    send: () => Promise.resolve(),
  };
  return { client, reads };
}

Deno.test("createAmqpLogStore() reads a tail longer than the admin node answers at once, page by page", async (t) => {
  await t.step("as many stored records as asked, newest first, folded parts unfolded", async () => {
    const { client, reads } = adminNode(3000, 1000);
    const records = await createAmqpLogStore({ client, maxBodyBytes: 65536 }).tail({ limit: 2500 });
    const ids = [...new Set(records.map((r) => r.id))];
    assert.equal(ids.length, 2500);
    assert.deepEqual(ids, Array.from({ length: 2500 }, (_, i) => 3000 - i));
    assert.equal(records.length, 2500 + 250, "every 10th record has a part");
    assert.deepEqual(reads, [1000, 1000, 500]);
  });
  await t.step("no more than there are, and only after `after`", async () => {
    const { client, reads } = adminNode(3000, 1000);
    const records = await createAmqpLogStore({ client, maxBodyBytes: 65536 }).tail({
      limit: 10000,
      after: 1200,
    });
    assert.equal(new Set(records.map((r) => r.id)).size, 1800);
    assert.ok(records.every((r) => r.id! > 1200));
    assert.deepEqual(reads, [1000, 1000]);
  });
  await t.step("pages of the admin node's max_read_limit", async () => {
    const { client, reads } = adminNode(3000, 300);
    const store = createAmqpLogStore({ client, maxBodyBytes: 65536, maxReadLimit: 300 });
    assert.equal(new Set((await store.tail({ limit: 700 })).map((r) => r.id)).size, 700);
    assert.deepEqual(reads, [300, 300, 100]);
  });
});
