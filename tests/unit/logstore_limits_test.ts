/**
 * What a client sends cannot make a log record, a batch of them or the buffer holding them large:
 * text a client chose is clipped where the record is built, a MariaDB batch is cut below one
 * statement's size, and the buffer is bounded by the size of what it holds as well as by count.
 */
import assert from "node:assert/strict";
import {
  batchTuple,
  createBatchWriter,
  createLogStore,
  eventsIn,
  type FoldedPart,
  loadLogStoreTemplate,
  type LogRow,
  MAX_CALL_CHARS,
  PartialWriteError,
  rowSize,
  toLogRow,
} from "../../src/logstore/mod.ts";
import type { Adapter, CallInput } from "../../src/adapters/mod.ts";
import { requestEvent } from "../helpers/log_events.ts";

/** What the consumer emits for a read whose `where` names a field of `n` × `ch` (a body under 64 KB). */
function hostileEvent(ch: string, n = 30_000, i = 0) {
  return requestEvent({
    event: `h${i}-n-b-1`,
    code: "VALIDATION",
    message: `Unknown field "${ch.repeat(n)}" for template "cus" (${i})`,
    template: "t".repeat(40_000),
    op: "call",
    call: "c".repeat(40_000),
    user: "u".repeat(40_000),
  });
}

const utf8 = (text: string) => new TextEncoder().encode(text).length;

Deno.test("toLogRow() clips what a client sent: a record stays small whatever the request held", async (t) => {
  for (const ch of ["\\", "\u0001", "é", "\u{1F600}", "x"]) {
    await t.step(`a message of ${JSON.stringify(ch)} × 30,000`, () => {
      const row = toLogRow(hostileEvent(ch), "h0-n-b-1");
      // Backslashes and control characters grow as JSON escapes them twice (doc, then the batch).
      const bytes = utf8(JSON.stringify(batchTuple(row)));
      assert.ok(bytes < 40_000, `${bytes} bytes`);
      assert.ok(rowSize(row) < 30_000, `${rowSize(row)}`);
      assert.ok(row.message!.length <= 1000 && row.message!.endsWith("…"));
      assert.ok(row.message!.isWellFormed());
      const doc = JSON.parse(row.doc);
      assert.ok(doc.message.length <= 4000 && doc.message.endsWith("…"), "the full message, clipped");
      assert.ok(doc.message.startsWith('Unknown field "'));
      assert.equal(row.template, `${"t".repeat(31)}…`);
      assert.equal(row.op!.length, 80);
      assert.equal(doc.call, `${"c".repeat(79)}…`);
      assert.equal(doc.user.length, 256);
    });
  }
  await t.step("what fits is kept as it was sent", () => {
    const message = "m".repeat(3000);
    const row = toLogRow(
      requestEvent({ code: "DB_ERROR", message, op: "call", call: "c".repeat(64), template: "t".repeat(32) }),
      "e",
    );
    assert.equal(JSON.parse(row.doc).message, message);
    assert.equal(JSON.parse(row.doc).call, "c".repeat(64));
    assert.equal(row.template, "t".repeat(32));
    assert.equal(row.op, `call:${"c".repeat(64)}`);
  });
});

/** A MariaDB adapter that keeps the `records` of each `log_rows` call, and fails the calls told. */
function recordingAdapter(failCalls: number[] = []) {
  const calls: string[] = [];
  let n = 0;
  const fail = () => Promise.reject(new Error("not used"));
  const adapter: Adapter = {
    store: "mariadb",
    call: (input: CallInput) => {
      if (failCalls.includes(n++)) return Promise.reject(new Error("Connection to MariaDB lost"));
      calls.push(input.values.get("records") as string);
      return Promise.resolve({ data: [], rows: 0 });
    },
    read: fail,
    create: fail,
    update: fail,
    delete: fail,
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
  return { adapter, calls };
}

const mariadbTemplate = () =>
  loadLogStoreTemplate({ dir: "templates/logstore", store: "mariadb", database: "lab" });

/** Records of IPL runs with many steps: BEDS's own text, not clipped, `kb` KB of JSON each. */
function bigRows(count: number, kb: number): LogRow[] {
  return Array.from({ length: count }, (_, i) =>
    toLogRow({
      kind: "ipl",
      event: `ipl${i}-n-b-1`,
      at: "2025-01-02T03:04:05.678Z",
      node: "n",
      role: "appServer",
      env: "lab",
      ok: true,
      ms: 1,
      steps: Array.from({ length: kb }, (_, s) => ({ step: `s${s}`, detail: "d".repeat(1000) })),
      configDigest: "0".repeat(64),
    }, `ipl${i}-n-b-1`));
}

Deno.test("createLogStore() on MariaDB cuts a batch into calls below one statement's size", async (t) => {
  const template = await mariadbTemplate();
  await t.step("an ordinary batch is one call, as before", async () => {
    const { adapter, calls } = recordingAdapter();
    const rows = Array.from({ length: 200 }, (_, i) => toLogRow(requestEvent({ event: `e${i}` }), `e${i}`));
    await createLogStore({ adapter, template }).write(rows);
    assert.equal(calls.length, 1);
    assert.deepEqual(JSON.parse(calls[0]!), rows.map(batchTuple));
  });
  await t.step(
    "a batch past MAX_CALL_CHARS goes in several calls, every record once and in order",
    async () => {
      const { adapter, calls } = recordingAdapter();
      const rows = bigRows(30, 200); // 30 × 200 KB: 6 MB
      await createLogStore({ adapter, template }).write(rows);
      assert.ok(calls.length >= 3, `${calls.length} calls`);
      for (const text of calls) assert.ok(text.length <= MAX_CALL_CHARS, `${text.length}`);
      assert.deepEqual(calls.flatMap((text) => JSON.parse(text)), rows.map(batchTuple));
    },
  );
  await t.step("a hostile batch (150 requests echoing 60 KB field names) stays under it too", async () => {
    const { adapter, calls } = recordingAdapter();
    const rows = Array.from({ length: 150 }, (_, i) => toLogRow(hostileEvent("\\", 30_000, i), `h${i}`));
    await createLogStore({ adapter, template }).write(rows);
    for (const text of calls) assert.ok(utf8(text) <= 3 * MAX_CALL_CHARS);
    assert.equal(calls.flatMap((text) => JSON.parse(text)).length, 150);
  });
  await t.step("a later call that fails reports what the earlier ones stored", async () => {
    const { adapter, calls } = recordingAdapter([1]);
    const rows = bigRows(30, 200);
    const error = await createLogStore({ adapter, template }).write(rows).catch((e) => e);
    assert.ok(error instanceof PartialWriteError, String(error));
    const stored = JSON.parse(calls[0]!).length;
    assert.ok(stored > 0 && stored < rows.length);
    assert.deepEqual(error.stored, rows.slice(0, stored));
  });
  await t.step("a first call that fails fails the write as it is", async () => {
    const { adapter } = recordingAdapter([0]);
    const error = await createLogStore({ adapter, template }).write(bigRows(30, 200)).catch((e) => e);
    assert.ok(!(error instanceof PartialWriteError));
    assert.match(error.message, /Connection to MariaDB lost/);
  });
});

Deno.test("createBatchWriter({ maxSize }) drops items past the size it may hold, as past its capacity", async (t) => {
  const hold = Promise.withResolvers<void>();
  const written: number[][] = [];
  const writer = createBatchWriter<number>({
    write: async (batch) => {
      await hold.promise;
      written.push(batch);
    },
    batchSize: 2,
    flushMs: 60_000,
    capacity: 1000,
    maxSize: 100,
    size: (n) => n,
  });
  await t.step("held: the first batch in flight and the rest waiting count", () => {
    // 40 + 40 go out as a batch (still held), 40 waits: 120 held, past 100.
    assert.deepEqual([40, 40, 40, 1].map((n) => writer.push(n)), [true, true, true, false]);
    assert.equal(writer.stats().dropped, 1);
    assert.equal(writer.stats().buffered, 3);
  });
  await t.step("written, they make room again", async () => {
    hold.resolve();
    await writer.flush();
    assert.ok(writer.push(90));
    await writer.close();
    assert.deepEqual(written, [[40, 40], [40], [90]]);
  });
});

Deno.test("a stuck log store holds little memory whatever the requests held", async () => {
  // In a process of its own, to measure its heap after a full collection: 4000 records of requests
  // whose errors echoed 60 KB of a client's text, buffered as a node buffers them (buffer_size
  // 10000, 2048 UTF-16 units per event), while the store never answers.
  const mod = new URL("../../src/logstore/mod.ts", import.meta.url).href;
  const code = `
    import { createBatchWriter, createLogStoreSink, eventsIn, rowSize } from "${mod}";
    const writer = createBatchWriter({
      write: () => new Promise(() => {}),
      batchSize: 200, flushMs: 10, capacity: 10000, maxSize: 10000 * 2048, weight: eventsIn, size: rowSize,
    });
    const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s" });
    globalThis.gc();
    const before = Deno.memoryUsage().heapUsed;
    for (let i = 0; i < 4000; i++) {
      // A text of its own for each request, as each parsed request body is.
      const field = JSON.parse(JSON.stringify("\\\\".repeat(60000) + i));
      const message = 'Unknown field "' + field + '" for template "cus"';
      sink.emit({ kind: "request", event: "e" + i, at: new Date().toISOString(), node: "n", broker: "b",
        template: "cus", op: "read", code: "VALIDATION", message, ms: 1, rows: 0, attempt: 1,
        action: "reply" });
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    globalThis.gc();
    console.log(JSON.stringify({ mb: (Deno.memoryUsage().heapUsed - before) / 1e6, stats: sink.stats() }));
    Deno.exit(0);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", "--v8-flags=--expose-gc", code],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const { mb, stats } = JSON.parse(text);
  assert.ok(mb < 100, `heap grew ${mb.toFixed(0)} MB: ${text}`);
  assert.ok(stats.dropped > 0, "past the size it may hold, records are dropped and counted");
  assert.equal(stats.dropped + stats.buffered, 4000);
});

Deno.test("rowSize() counts a record's folded parts", () => {
  const row = toLogRow(requestEvent({}), "r");
  const parts = Array.from({ length: 24 }, (_, i): FoldedPart => [`${i + 1}`, "prd", "read", null, 1, 1]);
  const folded: LogRow = { ...row, parts };
  assert.ok(rowSize(folded) >= rowSize(row) + 24 * 40);
  assert.equal(eventsIn(folded), 25);
});
