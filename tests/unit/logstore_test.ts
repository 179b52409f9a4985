import assert from "node:assert/strict";
import { BedsError } from "../../src/errors.ts";
import {
  buildChainTree,
  type ChainNode,
  createBatchWriter,
  createLogStore,
  createLogStoreSink,
  fromStoredRow,
  levelOf,
  loadLogStoreTemplate,
  type LogEvent,
  type LogRow,
  PartialWriteError,
  renderChainTree,
  shouldRecord,
  type StoredEvent,
  toLogRow,
} from "../../src/logstore/mod.ts";
import type { Adapter } from "../../src/adapters/mod.ts";
import { documentOf } from "../../src/adapters/mongodb/filters.ts";
import { configDigest } from "../../src/config/mod.ts";
import { loadTemplates } from "../../src/templates/mod.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";

const request = requestEvent;

/** A write function whose calls are recorded and whose outcome the test decides. */
function recorder(fail = 0) {
  const batches: number[][] = [];
  let failuresLeft = fail;
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  return {
    batches,
    hold() {
      gate = new Promise((resolve) => open = resolve);
    },
    release: () => open(),
    write: async (batch: number[]) => {
      await gate;
      if (failuresLeft-- > 0) throw new Error("store down");
      batches.push([...batch]);
    },
  };
}

Deno.test("createBatchWriter() writes full batches at once and the rest on flush", async () => {
  const store = recorder();
  const writer = createBatchWriter({ write: store.write, batchSize: 3, flushMs: 60_000, capacity: 100 });
  for (let i = 1; i <= 7; i++) assert.equal(writer.push(i), true);
  await writer.flush();
  assert.deepEqual(store.batches, [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual(writer.stats(), { buffered: 0, written: 7, dropped: 0, failures: 0, batches: 3 });
  await writer.close();
});

Deno.test("createBatchWriter() writes a partial batch after flushMs", async () => {
  const store = recorder();
  const writer = createBatchWriter({ write: store.write, batchSize: 100, flushMs: 20, capacity: 100 });
  writer.push(1);
  writer.push(2);
  assert.deepEqual(store.batches, []);
  const end = Date.now() + 5000;
  while (!store.batches.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(store.batches, [[1, 2]]);
  await writer.close();
});

Deno.test("createBatchWriter() under a steady load writes what is due, not a stream of tiny batches", async () => {
  // A write takes 10 ms and an item arrives every millisecond or so: far below a full batch. Only
  // what waited flushMs goes out; what arrives during that write waits its own turn.
  const batches: Array<{ size: number; waitedMs: number }> = [];
  const pushedAt = new Map<number, number>();
  const writer = createBatchWriter<number>({
    write: async (batch) => {
      await new Promise((r) => setTimeout(r, 10));
      const now = performance.now();
      batches.push({ size: batch.length, waitedMs: Math.max(...batch.map((i) => now - pushedAt.get(i)!)) });
    },
    batchSize: 1000,
    flushMs: 30,
    capacity: 10_000,
  });
  let n = 0;
  const end = performance.now() + 300;
  while (performance.now() < end) {
    pushedAt.set(++n, performance.now());
    writer.push(n);
    await new Promise((r) => setTimeout(r, 1));
  }
  await writer.close();
  const sizes = batches.map((b) => b.size);
  assert.equal(sizes.reduce((a, b) => a + b, 0), n, "every item written");
  // One batch per flushMs, and the last on close. Writing whatever arrived during each write
  // instead gave a batch per write, back to back: 24 of 5 items each where this gives 10 of 14.
  assert.ok(batches.length <= Math.ceil(300 / 30) + 2, `${batches.length} batches: ${sizes.join(" ")}`);
  const waited = Math.max(...batches.slice(0, -1).map((b) => b.waitedMs));
  assert.ok(waited < 30 + 10 + 100, `an item waited ${waited.toFixed(0)} ms`);
});

Deno.test("createBatchWriter() flush() writes what is queued when it is called, not what comes after", async () => {
  const batches: number[][] = [];
  let release = () => {};
  const writer = createBatchWriter<number>({
    write: (batch) => {
      batches.push([...batch]);
      return new Promise<void>((r) => release = r);
    },
    batchSize: 100,
    flushMs: 60_000,
    capacity: 100,
  });
  for (let i = 1; i <= 3; i++) writer.push(i);
  const flushed = writer.flush();
  writer.push(4); // arrives while the flushed batch is being written
  release();
  await flushed;
  assert.deepEqual(batches, [[1, 2, 3]]);
  assert.equal(writer.stats().buffered, 1, "the later item waits for its own batch");
  const closing = writer.close();
  await new Promise((r) => setTimeout(r, 0));
  release();
  await closing;
  assert.deepEqual(batches, [[1, 2, 3], [4]]);
});

Deno.test("createBatchWriter() drops and counts items past its capacity, never blocking", async () => {
  const store = recorder();
  store.hold();
  const writer = createBatchWriter({ write: store.write, batchSize: 2, flushMs: 60_000, capacity: 4 });
  const accepted = Array.from({ length: 10 }, (_, i) => writer.push(i));
  // The first batch is being written (held), two more wait: four in all.
  assert.deepEqual(accepted, [true, true, true, true, false, false, false, false, false, false]);
  assert.equal(writer.dropped(), 6);
  store.release();
  await writer.flush();
  assert.deepEqual(store.batches, [[0, 1], [2, 3]]);
  assert.equal(writer.push(99), true, "room again once written");
  await writer.close();
});

Deno.test("createBatchWriter() bounds its buffer by weight (a folded record holds its events)", async (t) => {
  // Each item stands for as many events as its value.
  const weighted = (store: ReturnType<typeof recorder>, batchSize: number, capacity: number) =>
    createBatchWriter({ write: store.write, batchSize, flushMs: 60_000, capacity, weight: (n: number) => n });
  await t.step("batches count records, the counters count events", async () => {
    const store = recorder();
    const writer = weighted(store, 2, 1000);
    for (const n of [4, 25, 1]) writer.push(n);
    await writer.flush();
    assert.deepEqual(store.batches, [[4, 25], [1]]);
    assert.deepEqual(writer.stats(), { buffered: 0, written: 30, dropped: 0, failures: 0, batches: 2 });
    await writer.close();
  });
  await t.step("capacity counts weight: heavy items fill the buffer sooner", async () => {
    const store = recorder();
    store.hold();
    const writer = weighted(store, 100, 60);
    const accepted = [25, 25, 25, 1].map((n) => writer.push(n));
    // 50 held, so a third 25 still enters (the last item may pass capacity by its own weight).
    assert.deepEqual(accepted, [true, true, true, false]);
    assert.deepEqual(writer.stats(), { buffered: 75, written: 0, dropped: 1, failures: 0, batches: 0 });
    store.release();
    await writer.close();
    assert.deepEqual(store.batches, [[25, 25, 25]]);
  });
});

Deno.test("createBatchWriter() retries a failed batch, then drops and counts it", async (t) => {
  await t.step("a batch that succeeds on a retry is written once", async () => {
    const store = recorder(2);
    const errors: boolean[] = [];
    const writer = createBatchWriter({
      write: store.write,
      batchSize: 2,
      flushMs: 60_000,
      capacity: 10,
      maxRetries: 3,
      retryDelayMs: 1,
      onError: (_e, info) => errors.push(info.dropped),
    });
    writer.push(1);
    writer.push(2);
    await writer.flush();
    assert.deepEqual(store.batches, [[1, 2]]);
    assert.deepEqual(errors, [false, false]);
    assert.equal(writer.stats().failures, 2);
    assert.equal(writer.dropped(), 0);
    await writer.close();
  });
  await t.step("a batch that fails every attempt is dropped and the next one goes on", async () => {
    const store = recorder(3);
    const writer = createBatchWriter({
      write: store.write,
      batchSize: 2,
      flushMs: 60_000,
      capacity: 10,
      maxRetries: 2,
      retryDelayMs: 1,
    });
    for (const i of [1, 2, 3, 4]) writer.push(i);
    await writer.flush();
    assert.deepEqual(store.batches, [[3, 4]]);
    assert.equal(writer.dropped(), 2);
    assert.equal(writer.stats().failures, 3);
    await writer.close();
  });
});

Deno.test("createBatchWriter() keeps a batch while the store is unreachable, up to outageMs", async (t) => {
  /** A store down until `upAt` (ms from now): its writes fail as a lost connection does. */
  const downUntil = (ms: number) => {
    const upAt = performance.now() + ms;
    const batches: number[][] = [];
    return {
      batches,
      write: (batch: number[]) => {
        if (performance.now() < upAt) {
          return Promise.reject(new BedsError("DB_UNAVAILABLE", "Connection lost"));
        }
        batches.push([...batch]);
        return Promise.resolve();
      },
    };
  };
  const options = (write: (batch: number[]) => Promise<void>, outageMs: number) => ({
    write,
    batchSize: 2,
    flushMs: 60_000,
    capacity: 10,
    maxRetries: 2,
    retryDelayMs: 20,
    outageMs,
    unavailable: (e: unknown) => e instanceof BedsError && e.code === "DB_UNAVAILABLE",
  });
  await t.step("an outage longer than the retries but within outageMs loses nothing", async () => {
    const store = downUntil(400);
    const writer = createBatchWriter(options(store.write, 5_000));
    for (const i of [1, 2, 3, 4]) writer.push(i);
    await writer.flush();
    assert.deepEqual(store.batches, [[1, 2], [3, 4]]);
    assert.equal(writer.dropped(), 0);
    assert.ok(writer.stats().failures > 3, `${writer.stats().failures} failed attempts`);
    await writer.close();
  });
  await t.step(
    "past outageMs the batch is dropped, and the next goes on once the store is back",
    async () => {
      const store = downUntil(400);
      const writer = createBatchWriter(options(store.write, 100));
      for (const i of [1, 2]) writer.push(i);
      await writer.flush();
      assert.equal(writer.dropped(), 2);
      await new Promise((resolve) => setTimeout(resolve, 400));
      for (const i of [3, 4]) writer.push(i);
      await writer.flush();
      assert.deepEqual(store.batches, [[3, 4]]);
      await writer.close();
    },
  );
  await t.step("a failure that is not the store's absence gets max_retries only", async () => {
    let attempts = 0;
    const writer = createBatchWriter(options(() => {
      attempts++;
      return Promise.reject(new BedsError("DB_ERROR", "Data too long"));
    }, 5_000));
    for (const i of [1, 2]) writer.push(i);
    await writer.flush();
    assert.equal(attempts, 3);
    assert.equal(writer.dropped(), 2);
    await writer.close();
  });
});

Deno.test("createBatchWriter() close() flushes what waits and refuses new items", async (t) => {
  await t.step("flushes", async () => {
    const store = recorder();
    const writer = createBatchWriter({ write: store.write, batchSize: 50, flushMs: 60_000, capacity: 100 });
    writer.push(1);
    await writer.close();
    assert.deepEqual(store.batches, [[1]]);
    assert.equal(writer.push(2), false);
    assert.equal(writer.dropped(), 1);
  });
  await t.step("gives up after its timeout and counts the rest as dropped", async () => {
    const store = recorder();
    store.hold();
    const writer = createBatchWriter({ write: store.write, batchSize: 1, flushMs: 60_000, capacity: 100 });
    writer.push(1);
    writer.push(2);
    writer.push(3);
    await writer.close(20);
    assert.equal(writer.dropped(), 2, "the two waiting behind the hung write");
    store.release();
  });
});

Deno.test("shouldRecord() samples only successful requests", async (t) => {
  const never = () => 0.99;
  await t.step("a successful request at rate 0.5 depends on the draw", () => {
    assert.equal(shouldRecord(request(), 0.5, () => 0.2), true);
    assert.equal(shouldRecord(request(), 0.5, never), false);
    assert.equal(shouldRecord(request(), 1, never), true);
    assert.equal(shouldRecord(request(), 0, () => 0), false);
  });
  await t.step("errors, retries and dead letters always", () => {
    assert.equal(shouldRecord(request({ code: "NOT_FOUND" }), 0, never), true);
    assert.equal(shouldRecord(request({ code: "DB_UNAVAILABLE", action: "retry" }), 0, never), true);
    assert.equal(shouldRecord(request({ code: "DB_ERROR", action: "dead_letter" }), 0, never), true);
  });
  await t.step("the admin exchange's successful requests never, its failures always", () => {
    assert.equal(shouldRecord(request({ admin: true }), 1, () => 0), false);
    assert.equal(shouldRecord(request({ admin: true, code: "FORBIDDEN" }), 1, never), true);
  });
  await t.step("the success of a retried request always: its chain would end in a retry", () => {
    assert.equal(shouldRecord(request({ attempt: 2, event: "e1.r2", parent: "e1" }), 0, never), true);
  });
  await t.step("status changes and IPL records always", () => {
    assert.equal(
      shouldRecord({ kind: "status", at: "", node: "n", status: { type: "closed" } }, 0, never),
      true,
    );
  });
});

Deno.test("levelOf() grades events", () => {
  assert.equal(levelOf(request()), "info");
  assert.equal(levelOf(request({ code: "NOT_FOUND" })), "error");
  assert.equal(levelOf(request({ code: "DB_UNAVAILABLE", action: "retry" })), "warn");
  assert.equal(
    levelOf({ kind: "status", at: "", node: "n", status: { type: "reconnecting", attempt: 2 } }),
    "warn",
  );
  assert.equal(levelOf({ kind: "status", at: "", node: "n", status: { type: "connected" } }), "info");
});

Deno.test("toLogRow() flattens an event into the mst record", async (t) => {
  await t.step("a failed call", () => {
    const row = toLogRow(
      request({
        event: "r.1",
        parent: "r",
        op: "call",
        call: "cancel",
        code: "NOT_FOUND",
        message: "no such order",
      }),
      "r.1",
    );
    assert.equal(row.root, "r");
    assert.equal(row.parent, "r");
    assert.equal(row.op, "call:cancel");
    assert.equal(row.level, "error");
    assert.equal(row.at, "2025-01-02 03:04:05.678");
    assert.equal(row.message, "no such order");
    assert.deepEqual(JSON.parse(row.doc), { call: "cancel" });
  });
  await t.step("a status change keeps its details as the message", () => {
    const row = toLogRow({
      kind: "status",
      at: "2025-01-02T00:00:00Z",
      node: "n",
      status: { type: "reconnecting", attempt: 2 },
    }, "s");
    assert.equal(row.action, "reconnecting");
    assert.equal(row.message, "attempt=2");
  });
  await t.step("a long message is clipped", () => {
    assert.equal(
      toLogRow(request({ code: "DB_ERROR", message: "x".repeat(5000) }), "e").message!.length,
      1000,
    );
  });
});

Deno.test("createLogStoreSink() ids status events, samples and counts", async () => {
  const rows: LogRow[] = [];
  const writer = createBatchWriter<LogRow>({
    write: (batch) => Promise.resolve(void rows.push(...batch)),
    batchSize: 100,
    flushMs: 60_000,
    capacity: 2,
  });
  let n = 0;
  const sink = createLogStoreSink({ writer, sampleRate: 0, newId: () => `id${n++}`, random: () => 0.5 });
  const events: LogEvent[] = [
    request(),
    request({ event: "e1", code: "DB_ERROR" }),
    { kind: "status", at: "2025-01-02T00:00:00Z", node: "n", status: { type: "closed" } },
    request({ event: "e2", code: "DB_ERROR" }),
  ];
  for (const e of events) sink.emit(e);
  await writer.flush();
  assert.deepEqual(rows.map((r) => r.event), ["e1", "id0"]);
  assert.deepEqual(
    { ...sink.stats(), written: undefined },
    { queued: 2, sampledOut: 1, dropped: 1, written: undefined, failures: 0, buffered: 0 },
  );
  assert.equal(sink.dropped(), 1);
  await writer.close();
});

function stored(event: string, at: string, extra: Partial<StoredEvent> = {}): StoredEvent {
  return fromStoredRow({
    event,
    at,
    kind: "request",
    level: "info",
    node: "n",
    op: "read",
    template: "prd",
    ...extra,
  });
}

Deno.test("buildChainTree() hangs each record under the id it extends, oldest first", async (t) => {
  const root = "000000001-n-b-0000";
  await t.step("parts, a retry and a grandchild", () => {
    const tree = buildChainTree([
      stored(`${root}.r2`, "2025-01-02 00:00:01.000", { attempt: 2 }),
      stored(`${root}.2`, "2025-01-02 00:00:00.300"),
      stored(root, "2025-01-02 00:00:00.000"),
      stored(`${root}.1`, "2025-01-02 00:00:00.200"),
      stored(`${root}.r2.1`, "2025-01-02 00:00:01.100"),
    ]);
    assert.equal(tree.length, 1);
    assert.equal(tree[0]!.event, root);
    assert.deepEqual(tree[0]!.children.map((c) => c.event), [`${root}.1`, `${root}.2`, `${root}.r2`]);
    assert.deepEqual(tree[0]!.children[2]!.children.map((c) => c.event), [`${root}.r2.1`]);
  });
  await t.step("parts that started in the same millisecond in their number's order: .2 before .10", () => {
    const parts = [10, 2, 1, 24, 3, 11].map((n) => stored(`${root}.${n}`, "2025-01-02 00:00:00.100"));
    const tree = buildChainTree([stored(root, "2025-01-02 00:00:00.000"), ...parts]);
    assert.deepEqual(tree[0]!.children.map((c) => c.event.slice(root.length)), [
      ".1",
      ".2",
      ".3",
      ".10",
      ".11",
      ".24",
    ]);
  });
  await t.step("a client's own parent id becomes a placeholder root", () => {
    const tree = buildChainTree([
      stored(`order-42.${root}`, "2025-01-02 00:00:00.000"),
      stored("order-42.000000002-n-b-0000", "2025-01-02 00:00:02.000"),
    ]);
    assert.equal(tree.length, 1);
    assert.equal(tree[0]!.event, "order-42");
    assert.equal(tree[0]!.record, undefined);
    assert.equal(tree[0]!.children.length, 2);
  });
  await t.step("a missing middle link becomes a placeholder", () => {
    const tree = buildChainTree([
      stored(root, "2025-01-02 00:00:00.000"),
      stored(`${root}.r2.1`, "2025-01-02 00:00:01.000"),
    ]);
    const middle = tree[0]!.children[0]!;
    assert.equal(middle.event, `${root}.r2`);
    assert.equal(middle.record, undefined);
    assert.deepEqual(middle.children.map((c) => c.event), [`${root}.r2.1`]);
    assert.equal(renderChainTree(tree)[1], "└─ .r2  (not recorded)");
  });
  await t.step("deep client parents make one placeholder per record, not one per missing word", () => {
    const deep = (i: number) => `${root}.${Array(30).fill(`p${i}`).join(".")}.leaf`;
    const tree = buildChainTree([
      stored(root, "2025-01-02 00:00:00.000"),
      ...Array.from({ length: 50 }, (_, i) => stored(deep(i), "2025-01-02 00:00:00.100")),
    ]);
    const count = (nodes: readonly ChainNode[]): number =>
      nodes.reduce((n, node) => n + 1 + count(node.children), 0);
    // The root, and each record under the one placeholder for the id it extends (31 words below it).
    assert.equal(count(tree), 101);
    assert.equal(tree[0]!.children.length, 50);
    assert.ok(tree[0]!.children.every((p) => !p.record && p.children.length === 1));
    assert.equal(renderChainTree(tree).length, 101);
  });
});

Deno.test("renderChainTree() indents children and shows timings and errors", () => {
  const root = "000000001-n-b-0000";
  const lines = renderChainTree(buildChainTree([
    stored(root, "2025-01-02 00:00:00.000", { ms: 12, rows: 2 }),
    stored(`${root}.1`, "2025-01-02 00:00:00.005", { ms: 3, rows: 1 }),
    stored(`${root}.2`, "2025-01-02 00:00:00.007", {
      code: "NOT_FOUND",
      message: 'No "prd" matches the key',
    }),
  ]));
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, new RegExp(`^${root}  \\+0ms  read\\.prd .*12 ms  2 rows`));
  assert.ok(lines[1]!.startsWith("├─ .1  +5ms  read.prd"), lines[1]!);
  assert.ok(lines[2]!.startsWith("└─ .2  +7ms  read.prd"), lines[2]!);
  assert.match(lines[2]!, /ERROR NOT_FOUND: No "prd" matches the key/);
});

Deno.test("configDigest() is stable and ignores secret values", () => {
  const a = configDigest({ amqp: { user: "u", pass: "one" }, b: 1 });
  assert.equal(a, configDigest({ b: 1, amqp: { pass: "two", user: "u" } }));
  assert.notEqual(a, configDigest({ amqp: { user: "v", pass: "one" }, b: 1 }));
  assert.match(a, /^[0-9a-f]{64}$/);
});

Deno.test("loadLogStoreTemplate() points template mst at the configured store", async (t) => {
  await t.step("MariaDB: the DBA's procedures, in the configured database", async () => {
    const mst = await loadLogStoreTemplate({ dir: "templates/logstore", store: "mariadb", database: "lab" });
    assert.equal(mst.name, "mst");
    assert.equal(mst.database, "lab");
    assert.equal(mst.ops.read?.procedure, "sp_mst_tail");
    assert.equal(mst.calls.get("log_batch")?.procedure, "sp_mst_log_batch");
    assert.equal(mst.calls.get("log_rows")?.procedure, "sp_mst_log_rows");
    assert.equal(mst.calls.get("chain")?.procedure, "sp_mst_chain");
  });
  await t.step("MongoDB: documents of collection msLogs, read by equality", async () => {
    const mst = await loadLogStoreTemplate({ dir: "templates/logstore", store: "mongodb", database: "beds" });
    assert.equal(mst.store, "mongodb");
    assert.equal(mst.collection, "msLogs");
    assert.ok(mst.ops.read?.where.includes("root"));
    assert.deepEqual(
      [...mst.ops.create!.params].sort(),
      Object.keys(toLogRow(request(), "e")).sort(),
      "every record field is stored",
    );
  });
  await t.step("the template is not among those the brokers serve", async () => {
    const served = await loadTemplates("templates");
    assert.ok(!served.some((s) => s.name === "mst"));
  });
});

Deno.test("a store without procedures (MongoDB's documents) keeps folded parts in doc and reads them back unfolded", async () => {
  // MongoDB cannot run here (its contract test needs BEDS_TEST_MONGO_URL): documents are kept in
  // memory, made by the MongoDB adapter's documentOf and read with equality filters as it reads.
  const template = await loadLogStoreTemplate({
    dir: "templates/logstore",
    store: "mongodb",
    database: "beds",
  });
  const docs: Record<string, unknown>[] = [];
  const fail = () => Promise.reject(new Error("not used"));
  const adapter: Adapter = {
    store: "mongodb",
    // The MongoDB adapter's own mapping of values to a document (a json field stored as its value).
    create: ({ template, values }) => {
      docs.push(documentOf({ template, values, fields: template.ops.create!.params }));
      return Promise.resolve({ data: null, rows: 1 });
    },
    read: ({ where }) => {
      const data = docs.filter((d) => [...where].every(([field, any]) => any.includes(d[field])));
      return Promise.resolve({ data, rows: data.length });
    },
    update: fail,
    delete: fail,
    call: fail,
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
  const store = createLogStore({ adapter, template });
  const writer = createBatchWriter<LogRow>({
    write: (rows) => store.write(rows),
    batchSize: 100,
    flushMs: 60_000,
    capacity: 100,
  });
  const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts: true });
  sink.emit(fanOutEvent("r", [{ template: "cus" }, { template: "prd", op: "call", call: "total" }]));
  await writer.close();
  assert.equal(docs.length, 1);
  assert.equal(docs[0]!.parts, undefined, "parts are stored in doc, not as a field of their own");
  assert.deepEqual(JSON.parse(String(docs[0]!.doc)).parts, [["1", "cus", "read", null, 1.5, 1], [
    "2",
    "prd",
    "call:total",
    "total",
    1.5,
    1,
  ]]);
  const { records: chain } = await store.chain("r.2");
  assert.deepEqual(chain.map((r) => [r.event, r.template, r.op]), [["r", "dsh", "read"], [
    "r.1",
    "cus",
    "read",
  ], ["r.2", "prd", "call:total"]]);
  const tail = await store.tail({ template: "dsh" });
  assert.deepEqual(tail.map((r) => r.event), ["r"]);
});

Deno.test("createBatchWriter() counts what a partial write stored as written, and retries or drops only the rest", async (t) => {
  const partial = (failures: number) => {
    const batches: number[][] = [];
    let left = failures;
    return {
      batches,
      write(batch: number[]) {
        batches.push([...batch]);
        if (left-- > 0) {
          // The even items went in; the odd ones failed.
          return Promise.reject(new PartialWriteError(batch.filter((n) => n % 2 === 0), new Error("reset")));
        }
        return Promise.resolve();
      },
    };
  };
  await t.step("the retry writes the rest, and nothing is dropped", async () => {
    const store = partial(1);
    const writer = createBatchWriter({
      write: store.write,
      batchSize: 4,
      flushMs: 60_000,
      capacity: 10,
      retryDelayMs: 1,
    });
    for (const i of [1, 2, 3, 4]) writer.push(i);
    await writer.flush();
    assert.deepEqual(store.batches, [[1, 2, 3, 4], [1, 3]]);
    assert.equal(writer.stats().written, 4);
    assert.equal(writer.dropped(), 0);
    await writer.close();
  });
  await t.step("past its retries only the rest counts as dropped", async () => {
    const store = partial(10);
    const writer = createBatchWriter({
      write: store.write,
      batchSize: 4,
      flushMs: 60_000,
      capacity: 10,
      maxRetries: 1,
      retryDelayMs: 1,
    });
    for (const i of [1, 2, 3, 4]) writer.push(i);
    await writer.flush();
    assert.equal(writer.stats().written, 2);
    assert.equal(writer.dropped(), 2);
    await writer.close();
  });
});
