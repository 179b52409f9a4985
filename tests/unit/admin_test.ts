import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { createLogger, type Logger } from "../../src/logging/mod.ts";
import { syslogFailure } from "../../src/ipl/mod.ts";
import { reportOf, toSyslogLine } from "../../src/admin/mod.ts";
import type { BrokerStatus } from "../../src/brokers/mod.ts";
import { splitBySize } from "../../src/logstore/mod.ts";

const broker = (over: Partial<BrokerStatus>): BrokerStatus => ({
  broker: "rBroker",
  queue: "appServer.rBroker",
  consumers: 2,
  inflight: 0,
  restarts: 0,
  crashLoop: false,
  requests: 0,
  errors: 0,
  retries: 0,
  deadLetters: 0,
  ratePerSec: 0,
  ...over,
});

Deno.test("reportOf() sums the brokers and keeps the newest last error", () => {
  const now = Date.parse("2026-11-28T10:00:00.000Z");
  const report = reportOf(
    {
      node: "app-1",
      role: "appServer",
      uptimeMs: 60_000,
      brokers: [
        broker({
          inflight: 2,
          requests: 10,
          errors: 1,
          ratePerSec: 1.234,
          lastError: { code: "NOT_FOUND", at: "2026-11-28T09:59:00.000Z" },
        }),
        broker({
          broker: "wBroker",
          inflight: 1,
          requests: 5,
          errors: 2,
          ratePerSec: 2,
          lastError: { code: "CONFLICT", at: "2026-11-28T09:59:30.000Z" },
        }),
      ],
    },
    "0.1.0",
    now,
  );
  assert.equal(report.started_at, "2026-11-28T09:59:00.000Z");
  assert.equal(report.at, "2026-11-28T10:00:00.000Z");
  assert.deepEqual(
    [report.inflight, report.requests, report.errors, report.rate, report.last_error],
    [3, 15, 3, 3.23, "CONFLICT at 2026-11-28T09:59:30.000Z"],
  );
  assert.equal((report.doc.brokers as unknown[]).length, 2);
  assert.equal(reportOf({ node: "n", role: "r", uptimeMs: 0, brokers: [] }, "x", now).last_error, null);
});

Deno.test("toSyslogLine() takes warn, error and fatal lines only, and never the shipper's own failures", () => {
  const line = (level: string, msg: string) =>
    JSON.stringify({ level, time: "2026-11-28T10:00:00.123Z", node: "n1", msg }) + "\n";
  assert.equal(toSyslogLine(line("info", "resident"), "n1", "id1"), undefined);
  assert.equal(toSyslogLine(line("debug", "x"), "n1", "id1"), undefined);
  assert.deepEqual(toSyslogLine(line("warn", "request retry scheduled"), "n1", "id1"), {
    id: "id1",
    at: "2026-11-28 10:00:00.123",
    node: "n1",
    level: "warn",
    msg: "request retry scheduled",
    line: line("warn", "request retry scheduled").trimEnd(),
  });
  assert.equal(toSyslogLine(line("error", "x"), "n1", "i")?.level, "error");
  assert.equal(toSyslogLine(line("fatal", "x"), "n1", "i")?.level, "fatal");
  assert.equal(toSyslogLine(line("warn", "system log shipping failed"), "n1", "i"), undefined);
  assert.equal(toSyslogLine('{"level":"warn", broken', "n1", "i"), undefined);
});

Deno.test("toSyslogLine() keeps a message MariaDB's JSON takes: whole characters, no lone surrogate", () => {
  const line = (msg: string) =>
    JSON.stringify({ level: "error", time: "2026-11-28T10:00:00.123Z", msg }) + "\n";
  for (const msg of ["a".repeat(999) + "😀" + "tail", "bad \ud83d half", "😀".repeat(600)]) {
    const kept = toSyslogLine(line(msg), "n1", "i")!.msg;
    assert.ok(kept.isWellFormed(), JSON.stringify(kept.slice(-3)));
    assert.ok(kept.length <= 1000);
  }
});

Deno.test("splitBySize() keeps every batch under the limit and every row in order", () => {
  const rows = Array.from({ length: 50 }, (_, i) => ({ i, text: "x".repeat(i * 10) }));
  const batches = splitBySize(rows, 2000);
  assert.ok(batches.length > 1);
  assert.deepEqual(batches.flat(), rows);
  for (const batch of batches.filter((b) => b.length > 1)) {
    assert.ok(new TextEncoder().encode(JSON.stringify(batch)).length <= 2000 - 256, `${batch.length} rows`);
  }
  // A row over the limit on its own still goes, alone.
  const big = [{ text: "y".repeat(5000) }, { text: "z" }];
  assert.deepEqual(splitBySize(big, 2000), [[big[0]], [big[1]]]);
  assert.deepEqual(splitBySize([], 2000), []);
});

Deno.test("the logger's tap sees each line as written: secrets already redacted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tap_test_" });
  const fd = openSync(`${dir}/log.jsonl`, "w");
  const seen: string[] = [];
  try {
    const logger = createLogger({ level: "info", fd, tap: (line) => seen.push(line) });
    logger.warn({ databases: { mariadb: { password: "s3cret" } } }, "connect failed");
    logger.debug("below the level");
    assert.equal(seen.length, 1);
    assert.ok(!seen[0]!.includes("s3cret"), `a secret reached the tap: ${seen[0]}`);
    assert.equal(JSON.parse(seen[0]!).databases.mariadb.password, "***");
    assert.equal(toSyslogLine(seen[0]!, "n1", "id")?.msg, "connect failed");
  } finally {
    closeSync(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("system log shipping failures: retried attempts are silent, drops are warned at most once a minute", () => {
  const warned: Array<Record<string, unknown>> = [];
  const logger = { warn: (fields: Record<string, unknown>) => warned.push(fields) } as unknown as Logger;
  let now = 0;
  const report = syslogFailure({ logger }, () => now);
  const error = new Error('No queue is bound for "call.slg"');
  report(error, { size: 5, attempt: 1, dropped: false });
  assert.equal(warned.length, 0);
  report(error, { size: 5, attempt: 4, dropped: true });
  assert.deepEqual(warned, [{ err: error.message, lines: 5, droppedBefore: 0 }]);
  now = 30_000;
  report(error, { size: 7, attempt: 4, dropped: true });
  report(error, { size: 2, attempt: 4, dropped: true });
  assert.equal(warned.length, 1);
  now = 61_000;
  report(error, { size: 3, attempt: 4, dropped: true });
  assert.deepEqual(warned[1], { err: error.message, lines: 3, droppedBefore: 9 });
});
