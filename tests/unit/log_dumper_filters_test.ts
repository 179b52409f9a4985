/**
 * The observer's filters as a reader meets them: a time range named with a zone stays in the form
 * (a `datetime-local` input holds no zone), and the Status filter sorts records that report a
 * failure without a code (a failed IPL) and warnings without one alike on every store (MariaDB's
 * SQL is run in tests/integration/observer_status_test.ts).
 */
import assert from "node:assert/strict";
import { eventsPage } from "../../utilities/log_dumper/render.ts";
import { filterFrom } from "../../utilities/log_dumper/server.ts";
import { filterSql } from "../../utilities/log_dumper/mariadb_source.ts";
import { recordFilter } from "../../utilities/log_dumper/mongodb_source.ts";
import type { LogRecord, LogSource } from "../../utilities/log_dumper/source.ts";
import { matchesFilter, unfolding } from "../../utilities/log_dumper/unfold.ts";

function record(event: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id: 1,
    event,
    parent: null,
    kind: "request",
    level: "info",
    at: "2025-03-30T01:01:04.000Z",
    node: "n1",
    broker: null,
    template: null,
    op: null,
    code: null,
    action: "reply",
    attempt: null,
    ms: 1,
    rows: null,
    message: null,
    doc: {},
    ...extra,
  };
}

/** The events page of a query string, as the handler renders it. */
function pageOf(query: string, records: LogRecord[] = []): string {
  const { filter, ignored } = filterFrom(new URLSearchParams(query));
  return eventsPage({ records, filter, pageSize: 50, refreshSeconds: 0, paused: false, ignored });
}

/** The `value` of the form's input `name`. */
function inputValue(html: string, name: string): string | undefined {
  const input = new RegExp(`<input type="datetime-local" name="${name}" value="([^"]*)"`).exec(html);
  return input?.[1];
}

Deno.test("a time filter with a zone is shown in the form as the UTC time it names, and sent back so", async (t) => {
  const cases: Array<[string, string]> = [
    ["2025-03-30T01:00:30Z", "2025-03-30T01:00:30.000"],
    ["2025-03-30T03:00:30+02:00", "2025-03-30T01:00:30.000"],
    ["2025-03-29T23:30:30.25-01:30", "2025-03-30T01:00:30.250"],
    ["2025-03-30T01:00", "2025-03-30T01:00:00.000"],
    ["2025-03-30", "2025-03-30T00:00:00.000"],
  ];
  for (const [given, shown] of cases) {
    await t.step(given, () => {
      const html = pageOf(`since=${encodeURIComponent(given)}&until=${encodeURIComponent(given)}`);
      assert.equal(inputValue(html, "since"), shown);
      assert.equal(inputValue(html, "until"), shown);
      // What the form sends back names the same time.
      const resent = filterFrom(new URLSearchParams({ since: shown })).filter;
      assert.deepEqual(
        filterSql(resent),
        filterSql(filterFrom(new URLSearchParams({ since: given })).filter),
      );
    });
  }
  await t.step("a time that was ignored leaves the input empty", () => {
    const html = pageOf("since=2025-02-30T10:00");
    assert.equal(inputValue(html, "since"), "");
    assert.match(html, /Ignored since “2025-02-30T10:00”/);
  });
});

/** Records of every kind as BEDS writes them, with the status the page promises for each. */
const RECORDS: Array<[LogRecord, "ok" | "error" | undefined]> = [
  [record("req-ok"), "ok"],
  [record("req-fail", { level: "error", code: "NOT_FOUND" }), "error"],
  [record("req-retry", { level: "warn", code: "DB_UNAVAILABLE", action: "retry" }), "error"],
  [record("ipl-ok", { kind: "ipl", action: "ok" }), "ok"],
  // A failed IPL has no code: its level says it failed.
  [record("ipl-failed", { kind: "ipl", level: "error", action: "failed" }), "error"],
  [record("ipl-warned", { kind: "ipl", level: "warn", action: "ok" }), undefined],
  [record("st-connected", { kind: "status", action: "connected" }), "ok"],
  [record("st-reconnecting", { kind: "status", level: "warn", action: "reconnecting" }), undefined],
];

const eventsOf = (records: readonly LogRecord[]) => records.map((r) => r.event);

/** What a MongoDB filter of plain equalities, `$ne: null`, `$or` and `$and` matches. */
function mongoMatches(doc: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, want]) => {
    if (key === "$and") return (want as Record<string, unknown>[]).every((f) => mongoMatches(doc, f));
    if (key === "$or") return (want as Record<string, unknown>[]).some((f) => mongoMatches(doc, f));
    const have = doc[key] ?? null;
    if (want !== null && typeof want === "object" && "$ne" in want) return have !== want.$ne;
    return have === want;
  });
}

Deno.test("the Status filter: error is a code or level error, ok is level info without a code", async (t) => {
  for (const status of ["ok", "error"] as const) {
    const want = RECORDS.filter(([, s]) => s === status).map(([r]) => r.event);
    await t.step(`status=${status}: the unfolding`, () => {
      assert.deepEqual(eventsOf(RECORDS.map(([r]) => r).filter((r) => matchesFilter(r, { status }))), want);
    });
    await t.step(`status=${status}: MongoDB`, () => {
      const filter = recordFilter({ status });
      const docs = RECORDS.map(([r]) => r).filter((r) => mongoMatches({ ...r }, filter));
      assert.deepEqual(eventsOf(docs), want);
    });
  }
  await t.step("the Status column says what the filter finds", () => {
    const html = pageOf("", RECORDS.map(([r]) => r));
    for (const [r, status] of RECORDS) {
      const row = new RegExp(`<tr[^>]*>(?:(?!</tr>)[\\s\\S])*?>${r.event}</a>`).exec(html)?.[0] ?? "";
      const cell = /<td class="(err|)">([^<]*)<\/td>\s*<td class="num">/.exec(row);
      assert.ok(cell, `${r.event}: ${row}`);
      assert.equal(cell[2], r.code ?? status ?? "", r.event);
      assert.equal(cell[1], status === "error" ? "err" : "", r.event);
    }
  });
  await t.step("a fan-out's folded parts are ok, a failed IPL beside them an error", async () => {
    const fan = record("fan", { doc: { parts: [["1", "prd", "read", null, 1, 1]] } });
    const failed = RECORDS.find(([r]) => r.event === "ipl-failed")![0];
    const store: LogSource = {
      recent: (filter) => Promise.resolve([failed, fan].filter((r) => matchesFilter(r, filter))),
      chain: () => Promise.resolve([]),
      events: () => Promise.resolve([]),
      close: () => Promise.resolve(),
    };
    const reader = unfolding(store);
    assert.deepEqual(eventsOf(await reader.recent({ status: "ok" }, 10)), ["fan", "fan.1"]);
    assert.deepEqual(eventsOf(await reader.recent({ status: "error" }, 10)), ["ipl-failed"]);
  });
});
