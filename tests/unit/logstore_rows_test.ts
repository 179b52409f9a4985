/**
 * The log store's fast paths (sqlTime by slicing, toLogRow without copying
 * the event) give exactly what the plain forms gave, and sampling keeps a
 * fan-out's chain whole.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createBatchWriter,
  createLogStoreSink,
  type LogEvent,
  type LogRow,
  sqlTime,
  toLogRow,
} from "../../src/logstore/mod.ts";
import { requestEvent } from "../helpers/log_events.ts";

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
  await t.step("for strings Date normalises or refuses", () => {
    for (
      const iso of [
        "2025-02-30T00:00:00.000Z", // → March 2
        "2024-02-29T23:59:59.999Z",
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
  const fanOut = (root: string, failing?: number) => {
    sink.emit(request({ event: root }));
    for (let i = 1; i <= 3; i++) {
      sink.emit(
        request({ event: `${root}.${i}`, parent: root, ...(i === failing ? { code: "NOT_FOUND" } : {}) }),
      );
    }
  };
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
