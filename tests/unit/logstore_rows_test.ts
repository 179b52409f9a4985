/**
 * The log store's fast paths (sqlTime by slicing, toLogRow without copying
 * the event) give exactly what the plain forms gave, and sampling keeps a
 * fan-out's chain whole; folding a fan-out's parts into their parent's
 * record changes what is stored, not what readers get back.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createBatchWriter,
  createLogStoreSink,
  docText,
  eventsIn,
  type LogEvent,
  type LogRow,
  type PartEvent,
  sqlTime,
  type StoredEvent,
  storedRecords,
  toLogRow,
} from "../../src/logstore/mod.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";

/** The formula sqlTime used before its fast path. */
function viaDate(iso: string): string {
  const date = new Date(iso);
  const valid = Number.isNaN(date.getTime()) ? new Date(0) : date;
  return valid.toISOString().slice(0, 23).replace("T", " ");
}

const request = requestEvent;

Deno.test("sqlTime() gives what a Date round trip gives", async (t) => {
  await t.step("for any time a node stamps", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
        const iso = new Date(ms).toISOString();
        assert.equal(sqlTime(iso), viaDate(iso));
      }),
      { numRuns: 2000 },
    );
  });
  await t.step("for every day of every month, leap years included", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day) => {
          const pad = (n: number, w: number) => String(n).padStart(w, "0");
          const iso = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T01:02:03.004Z`;
          assert.equal(sqlTime(iso), viaDate(iso), iso);
        },
      ),
      { numRuns: 3000 },
    );
  });
  await t.step("for strings Date normalises or refuses", () => {
    for (
      const iso of [
        "2025-02-30T00:00:00.000Z", // → March 2
        "2024-02-29T23:59:59.999Z",
        "2025-02-29T12:00:00.000Z", // not a leap year → March 1
        "2100-02-29T12:00:00.000Z", // not a leap year either
        "2000-02-29T12:00:00.000Z",
        "0000-02-29T12:00:00.000Z",
        "2025-04-31T00:00:00.000Z", // → May 1
        "2025-11-29T10:11:12.131Z",
        "2025-11-30T10:11:12.131Z",
        "2025-12-31T23:59:59.999Z",
        "2025-01-31T00:00:00.000Z",
        "2025-01-01T24:00:00.000Z", // → next day
        "2025-01-32T00:00:00.000Z", // invalid → epoch
        "2025-01-02T03:04:05Z",
        "2025-01-02T03:04:05.678+02:00",
        "2025-01-02",
        "not a time",
        "",
      ]
    ) {
      assert.equal(sqlTime(iso), viaDate(iso), iso);
    }
  });
});

Deno.test("toLogRow() keeps in its doc only what no column holds, each value once", async (t) => {
  await t.step("a request: the user in the doc, everything else in columns", () => {
    const event = request({ event: "r.3", parent: "r", user: "app", code: undefined });
    const row = toLogRow(event, "r.3");
    assert.deepEqual(JSON.parse(row.doc), { user: "app" });
    assert.equal(row.event, "r.3");
    assert.equal(row.parent, "r");
    assert.equal(row.root, "r");
    assert.equal(row.at, "2025-01-02 03:04:05.678");
    assert.deepEqual([row.template, row.op, row.ms, row.rows, row.attempt, row.action], [
      "prd",
      "read",
      1.5,
      1,
      1,
      "reply",
    ]);
  });
  await t.step("a dead letter: its reason, and the full message beside the column's combined one", () => {
    const row = toLogRow(
      request({ code: "VALIDATION", message: "bad sku", reason: "poison", action: "dead_letter", call: "x" }),
      "d1",
    );
    assert.equal(row.message, "bad sku (poison)");
    assert.deepEqual(JSON.parse(row.doc), { call: "x", reason: "poison", message: "bad sku" });
  });
  await t.step("a message that fits its column is not stored twice", () => {
    const row = toLogRow(request({ code: "NOT_FOUND", message: "no such order" }), "e1");
    assert.equal(row.message, "no such order");
    assert.deepEqual(JSON.parse(row.doc), {});
  });
  await t.step("a clipped message keeps its whole text in the doc", () => {
    const long = "x".repeat(1500);
    const row = toLogRow(request({ code: "DB_ERROR", message: long }), "e2");
    assert.equal(row.message!.length, 1000);
    assert.equal(JSON.parse(row.doc).message, long);
  });
  await t.step("a status change gets the id it is given and keeps its details", () => {
    const event: LogEvent = {
      kind: "status",
      at: "2025-01-02T00:00:00Z",
      node: "n",
      status: { type: "reconnecting", attempt: 2 },
    };
    const row = toLogRow(event, "s1");
    assert.deepEqual(JSON.parse(row.doc), { status: { type: "reconnecting", attempt: 2 } });
    assert.equal(row.event, "s1");
    assert.equal(row.action, "reconnecting");
    assert.equal(row.at, "2025-01-02 00:00:00.000");
  });
  await t.step("a request recorded under another id takes that id", () => {
    const row = toLogRow(request({ event: "a" }), "b");
    assert.equal(row.event, "b");
    assert.ok(!("event" in JSON.parse(row.doc)));
  });
});

Deno.test("createLogStoreSink() samples a fan-out as a whole", async (t) => {
  const rows: LogRow[] = [];
  const writer = createBatchWriter<LogRow>({
    write: (batch) => Promise.resolve(void rows.push(...batch)),
    batchSize: 1000,
    flushMs: 60_000,
    capacity: 10_000,
  });
  const draws = [0.9, 0.1, 0.9, 0.1];
  const sink = createLogStoreSink({
    writer,
    sampleRate: 0.5,
    newId: () => "id",
    random: () => draws.shift() ?? 0.9,
  });
  const fanOut = (root: string, failing?: number) =>
    sink.emit(fanOutEvent(root, [1, 2, 3].map((i) => i === failing ? { code: "NOT_FOUND" } : {})));
  await t.step("a parent left out takes its parts with it, but not their failures", async () => {
    fanOut("a", 2); // draw 0.9: out
    fanOut("b"); // draw 0.1: in, with every part
    await writer.flush();
    assert.deepEqual(rows.map((r) => r.event), ["a.2", "b", "b.1", "b.2", "b.3"]);
  });
  await t.step("each request draws once, its parts none", async () => {
    rows.length = 0;
    fanOut("c"); // 0.9: out
    fanOut("d"); // 0.1: in
    sink.emit(request({ event: "e" })); // nothing left to draw: 0.9, out
    await writer.flush();
    assert.deepEqual(rows.map((r) => r.event), ["d", "d.1", "d.2", "d.3"]);
    assert.equal(draws.length, 0);
  });
  await writer.close();
});

/** Records what the sink writes, with `foldParts` on or off. */
function recordingSink(foldParts: boolean, sampleRate = 1) {
  const rows: LogRow[] = [];
  const writer = createBatchWriter<LogRow>({
    write: (batch) => Promise.resolve(void rows.push(...batch)),
    // A batch of one is taken the moment it is pushed: a parent's record must be complete by then.
    batchSize: 1,
    flushMs: 60_000,
    capacity: 10_000,
  });
  const sink = createLogStoreSink({ writer, sampleRate, newId: () => "s", foldParts, random: () => 0.9 });
  return { rows, sink, writer };
}

/** What a reader gets back from stored rows (the store keeps `doc` as text; ids are the store's). */
function readBack(rows: readonly LogRow[]): StoredEvent[] {
  const stored = rows.map((row) => {
    const { root: _, parts: __, rows: nrows, ...columns } = row;
    return { ...columns, nrows, doc: docText(row) };
  });
  return storedRecords(stored)
    .sort((a, b) => a.event < b.event ? -1 : a.event > b.event ? 1 : 0);
}

Deno.test("createLogStoreSink({ foldParts }) keeps a fan-out's successful parts in its parent's record", async (t) => {
  const fanOut = (sink: { emit(e: LogEvent): void }, root: string) =>
    sink.emit(fanOutEvent(root, [
      { template: "prd", ms: 0.25 },
      { template: "cus", op: "call", call: "total" },
      { code: "NOT_FOUND", message: "no row", rows: 0 },
    ]));
  await t.step("one record for the parent and its parts; a failed part keeps its own", async () => {
    const { rows, sink, writer } = recordingSink(true);
    fanOut(sink, "a");
    await writer.flush();
    assert.deepEqual(rows.map((r) => r.event), ["a", "a.3"]);
    assert.deepEqual(JSON.parse(docText(rows[0]!)).parts, [
      ["1", "prd", "read", null, 0.25, 1],
      ["2", "cus", "call:total", "total", 1.5, 1],
    ]);
    assert.equal(eventsIn(rows[0]!), 3);
    assert.equal(sink.stats().queued, 4);
    await writer.close();
  });
  await t.step("readers get back what unfolded records give", async () => {
    const folded = recordingSink(true);
    const plain = recordingSink(false);
    for (const { sink } of [folded, plain]) fanOut(sink, "a");
    for (const { writer } of [folded, plain]) await writer.close();
    assert.equal(plain.rows.length, 4);
    assert.deepEqual(readBack(folded.rows), readBack(plain.rows));
  });
  await t.step(
    "children emitted as events of their own (a retry, a client-parented request) stay records of their own",
    async () => {
      const { rows, sink, writer } = recordingSink(true);
      sink.emit(request({ event: "b" }));
      sink.emit(request({ event: "b.r2", parent: "b", attempt: 2 }));
      sink.emit(request({ event: "b.x-n-1-0", parent: "b" }));
      sink.emit(request({ event: "c" }));
      sink.emit(request({ event: "b.1", parent: "b" }));
      await writer.close();
      // Only the parts a fan-out's event carries fold; ids alone never make a part.
      assert.deepEqual(rows.map((r) => r.event), ["b", "b.r2", "b.x-n-1-0", "c", "b.1"]);
      assert.ok(rows.every((r) => r.parts === undefined && !("parts" in JSON.parse(docText(r)))));
    },
  );
  await t.step("the parts after a failed one still fold", async () => {
    const { rows, sink, writer } = recordingSink(true);
    sink.emit(fanOutEvent("f", [{}, { code: "DB_ERROR", message: "boom" }, {}]));
    await writer.close();
    assert.deepEqual(rows.map((r) => [r.event, r.parts?.map((p) => p[0])]), [["f", ["1", "3"]], [
      "f.2",
      undefined,
    ]]);
  });
  await t.step("a parent sampled out leaves only its failed parts", async () => {
    const { rows, sink, writer } = recordingSink(true, 0);
    fanOut(sink, "d");
    await writer.close();
    assert.deepEqual(rows.map((r) => r.event), ["d.3"]);
  });
});

Deno.test("folded and unfolded fan-outs read back alike, for any parts", async () => {
  const part = fc.record({
    template: fc.constantFrom("prd", "cus", "ord"),
    call: fc.option(fc.constantFrom("total", "orders"), { nil: undefined }),
    failed: fc.boolean(),
    ms: fc.double({ min: 0, max: 1e4, noNaN: true }),
    rows: fc.nat(1000),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(part, { maxLength: 30 }), { minLength: 1, maxLength: 5 }),
      async (fanOuts) => {
        const folded = recordingSink(true);
        const plain = recordingSink(false);
        for (const { sink } of [folded, plain]) {
          fanOuts.forEach((parts, i) => {
            sink.emit(fanOutEvent(
              `r${i}`,
              parts.map((p) => {
                const part: Partial<PartEvent> = {
                  template: p.template,
                  op: p.call ? "call" : "read",
                  ms: p.ms,
                  rows: p.rows,
                };
                if (p.call) part.call = p.call;
                return p.failed ? { ...part, code: "DB_ERROR", message: "boom" } : part;
              }),
            ));
          });
        }
        for (const { writer } of [folded, plain]) await writer.close();
        assert.ok(folded.rows.length <= plain.rows.length);
        assert.deepEqual(readBack(folded.rows), readBack(plain.rows));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("a record with folded parts counts as its events when written or dropped", async () => {
  const written: LogRow[][] = [];
  const writer = createBatchWriter<LogRow>({
    write: (batch) => Promise.resolve(void written.push(batch)),
    batchSize: 10,
    flushMs: 60_000,
    capacity: 1,
    weight: eventsIn,
  });
  const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts: true });
  for (const root of ["a", "b"]) sink.emit(fanOutEvent(root, Array.from({ length: 24 }, () => ({}))));
  await writer.close();
  // Room for one record: "a" and its 24 parts are written, "b" and its parts are dropped.
  assert.deepEqual(written.map((b) => b.map((r) => r.event)), [["a"]]);
  assert.deepEqual(sink.stats(), {
    queued: 25,
    sampledOut: 0,
    dropped: 25,
    written: 25,
    failures: 0,
    buffered: 0,
  });
});
