/**
 * The observer against what a store may hold or do: docs that are no object,
 * records folding any number of parts, chains longer than a page, stores that
 * fail or run long, filter times the stores cannot read.
 */
import assert from "node:assert/strict";
import { createHandler, filterFrom } from "../../utilities/log_dumper/server.ts";
import {
  errorPage,
  eventsPage,
  IPL_STEP_LIMIT,
  IPL_WARNING_LIMIT,
  iplPage,
} from "../../utilities/log_dumper/render.ts";
import { observerConfig } from "../../utilities/log_dumper/config.ts";
import { filterSql, poolOptions, rowRecord } from "../../utilities/log_dumper/mariadb_source.ts";
import { clientOptions, documentRecord, recordFilter } from "../../utilities/log_dumper/mongodb_source.ts";
import { filterTime, type LogRecord, type LogSource, StoreError } from "../../utilities/log_dumper/source.ts";
import {
  CHAIN_LIMIT,
  type LogReader,
  PAGE_ROWS,
  PART_LIMIT,
  unfolding,
  unfoldParts,
} from "../../utilities/log_dumper/unfold.ts";

function record(event: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id: 1,
    event,
    parent: null,
    kind: "request",
    level: "info",
    at: "2025-01-02T00:00:00.000Z",
    node: "n1",
    broker: "rBroker",
    template: "dsh",
    op: "read",
    code: null,
    action: "reply",
    attempt: 1,
    ms: 2.5,
    rows: 1,
    message: null,
    doc: {},
    ...extra,
  };
}

/** `n` folded parts as BEDS writes them. */
const parts = (n: number) =>
  Array.from({ length: n }, (_, i) => [String(i + 1), "prd", "read", null, 0.5, 1]);

/** A store over fixed records, remembering the signals and calls it got. */
function store(records: LogRecord[], calls: string[] = []): LogSource {
  return {
    recent: (_filter, limit) => Promise.resolve(records.slice(0, limit)),
    chain: (event, limit) => {
      calls.push(`chain ${event} ${limit}`);
      return Promise.resolve(records.slice(0, limit));
    },
    events: (ids) => {
      calls.push(`events ${ids.join(",")}`);
      return Promise.resolve(records.filter((r) => ids.includes(r.event)));
    },
    close: () => Promise.resolve(),
  };
}

async function get(handle: (r: Request) => Promise<Response>, path: string) {
  const response = await handle(new Request(`http://127.0.0.1${path}`));
  return { status: response.status, text: await response.text() };
}

const count = (text: string, what: string) => text.split(what).length - 1;

Deno.test("a doc that is not an object is read as {} and breaks no page", async (t) => {
  await t.step("MariaDB rows and MongoDB documents", () => {
    for (const doc of ["null", "[1,2]", '"text"', "7", "{broken"]) {
      assert.deepEqual(rowRecord({ id: 1, event: "e", kind: "request", doc }).doc, {}, doc);
      assert.deepEqual(documentRecord({ event: "e", doc }, 1).doc, {}, doc);
    }
    assert.deepEqual(documentRecord({ event: "e", doc: null }, 1).doc, {});
    assert.deepEqual(rowRecord({ id: 1, event: "e", doc: '{"parts":[]}' }).doc, { parts: [] });
  });
  await t.step("the events, chain and IPL pages answer 200", async () => {
    const handle = createHandler({
      source: unfolding(store([
        rowRecord({ id: 2, event: "nul", kind: "request", level: "info", node: "n", doc: "null" }),
        record("ipl", {
          kind: "ipl",
          doc: { role: "r", steps: [null, 3, "x", [], { step: "config", outcome: "ok" }] },
        }),
      ])),
      pageSize: 10,
      refreshSeconds: 0,
    });
    for (const path of ["/", "/chain?id=nul", "/ipl"]) {
      assert.equal((await get(handle, path)).status, 200, path);
    }
    assert.match((await get(handle, "/ipl")).text, /<td>config<\/td>/);
  });
});

Deno.test("a fault of the observer is a 500 of its own, logged; only the store's are 'unavailable'", async () => {
  const lines: string[] = [];
  const broken: LogReader = {
    recent: () => Promise.reject(new TypeError("Cannot read properties of null (reading 'parts')")),
    chain: () => Promise.resolve({ records: [], cut: false }),
    close: () => Promise.resolve(),
  };
  const handle = createHandler({
    source: broken,
    pageSize: 10,
    refreshSeconds: 5,
    log: (l) => lines.push(l),
  });
  const page = await get(handle, "/");
  assert.equal(page.status, 500);
  assert.ok(!page.text.includes("Log store unavailable"));
  assert.match(page.text, /Observer error[\s\S]*reading &#39;parts&#39;/);
  assert.ok(!page.text.includes("http-equiv"), "a fault does not go away by reloading");
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /observer: \/ failed: TypeError: Cannot read properties of null/);
});

Deno.test("folded parts are unfolded up to a limit, the rest counted", async (t) => {
  await t.step("one record shows its first parts and how many more there are", () => {
    const rows = unfoldParts(record("p", { doc: { parts: parts(3000) } }));
    assert.equal(rows.length, 1 + PART_LIMIT);
    assert.equal(rows[0]!.moreParts, 3000 - PART_LIMIT);
    assert.equal(rows[PART_LIMIT]!.event, `p.${PART_LIMIT}`);
  });
  await t.step("the part asked for is unfolded wherever it is", () => {
    const rows = unfoldParts(record("p", { doc: { parts: parts(3000) } }), PART_LIMIT, "p.2999");
    assert.ok(rows.some((r) => r.event === "p.2999"));
    assert.equal(rows[0]!.moreParts, 3000 - PART_LIMIT - 1);
  });
  await t.step(
    "an events page of 50 records × 3,000 parts stays small, says it was cut, and pages on",
    async () => {
      const records = Array.from(
        { length: 50 },
        (_, i) => record(`f${i}`, { id: 100 - i, doc: { parts: parts(3000) } }),
      );
      const handle = createHandler({ source: unfolding(store(records)), pageSize: 50, refreshSeconds: 0 });
      const page = await get(handle, "/");
      assert.equal(page.status, 200);
      const rows = count(page.text, '<tr class="lvl-');
      assert.ok(rows <= PAGE_ROWS, `${rows} rows`);
      assert.ok(page.text.length < 2_000_000, `${page.text.length} characters`);
      assert.match(page.text, /id="cut">cut at 1,000 rows: 9 of up to 50 stored records shown/);
      assert.match(page.text, /2,900 more parts not shown/);
      assert.match(
        page.text,
        /id="older" href="\/\?before=92"/,
        "the next page starts after the last record shown",
      );
    },
  );
  await t.step(
    "a chain of one record with 100,000 parts stays small and shows the part asked for",
    async () => {
      const handle = createHandler({
        source: unfolding(store([record("big", { doc: { parts: parts(100_000) } })])),
        pageSize: 50,
        refreshSeconds: 0,
      });
      const page = await get(handle, "/chain?id=big.99999");
      assert.equal(page.status, 200);
      assert.ok(count(page.text, "<li class=") <= PART_LIMIT + 2, `${count(page.text, "<li class=")} nodes`);
      assert.match(page.text, /data-event="big\.99999"/);
      assert.match(page.text, /99,899 more parts not shown/);
    },
  );
});

Deno.test("a chain past its limit says so and reads the requested event on its own", async () => {
  const root = "R";
  const records = Array.from(
    { length: CHAIN_LIMIT + 10 },
    (_, i) => record(`${root}.${i + 1}`, { id: i + 1 }),
  );
  const calls: string[] = [];
  const reader = unfolding(store(records, calls));
  const chain = await reader.chain(`${root}.${CHAIN_LIMIT + 10}`);
  assert.equal(chain.cut, true);
  assert.deepEqual(calls, [`chain R.5010 ${CHAIN_LIMIT + 1}`, "events R.5010,R"]);
  assert.equal(chain.records.length, CHAIN_LIMIT + 1);
  assert.equal(chain.records.at(-1)!.event, "R.5010");
  const whole = await unfolding(store(records.slice(0, 20))).chain("R.3");
  assert.equal(whole.cut, false);
});

Deno.test("the IPL page pages on and says how many it shows", async () => {
  const ipl = Array.from(
    { length: 25 },
    (_, i) => record(`i${i}`, { id: 100 - i, kind: "ipl", doc: { steps: [] } }),
  );
  const seen: Array<number | undefined> = [];
  const reader: LogReader = {
    recent: (filter, limit) => {
      seen.push(filter.before);
      return Promise.resolve(ipl.filter((r) => !filter.before || r.id < filter.before).slice(0, limit));
    },
    chain: () => Promise.resolve({ records: [], cut: false }),
    close: () => Promise.resolve(),
  };
  const handle = createHandler({ source: reader, pageSize: 50, refreshSeconds: 0 });
  const first = await get(handle, "/ipl");
  assert.match(first.text, /20 IPL records, newest first, 20 per page/);
  assert.match(first.text, /id="older" href="\/ipl\?before=81"/);
  const second = await get(handle, "/ipl?before=81");
  assert.match(second.text, /5 IPL records, newest first/);
  assert.ok(!second.text.includes('id="older"'));
  assert.deepEqual(seen, [undefined, 81]);
  assert.equal(count(iplPage([], { pageSize: 20 }), "No IPL records"), 1);
});

Deno.test("one IPL record shows its steps and warnings up to a limit, the rest counted", () => {
  const warnings = Array.from({ length: 5000 }, (_, i) => `warning ${i}`);
  const steps = Array.from(
    { length: 100_000 },
    (_, i) => ({ step: `s${i}`, outcome: "ok", ms: 1, warnings }),
  );
  const page = iplPage([record("i1", { kind: "ipl", doc: { steps } })], { pageSize: 20 });
  assert.equal(count(page, "<tr class="), IPL_STEP_LIMIT);
  assert.equal(count(page, "warning "), IPL_STEP_LIMIT * IPL_WARNING_LIMIT);
  assert.match(page, new RegExp(`${100_000 - IPL_STEP_LIMIT} more steps not shown`));
  assert.equal(count(page, `${5000 - IPL_WARNING_LIMIT} more warnings not shown`), IPL_STEP_LIMIT);
  assert.ok(page.length < 2_000_000, `${page.length} characters`);
  const few = iplPage([
    record("i2", { kind: "ipl", doc: { steps: steps.slice(0, 3).map((s) => ({ ...s, warnings: ["w"] })) } }),
  ], {
    pageSize: 20,
  });
  assert.ok(!few.includes("not shown"));
});

Deno.test("filtered lists do not refresh themselves, and a reader gone stops the read", async (t) => {
  await t.step("any filter turns the refresh off", () => {
    for (const filter of [{ template: "prd" }, { code: "X" }, { level: "error" }, { since: "2025-01-01" }]) {
      const page = eventsPage({ records: [], filter, pageSize: 5, refreshSeconds: 5, paused: false });
      assert.ok(!page.includes("http-equiv"), JSON.stringify(filter));
    }
  });
  await t.step("the store read gets a signal that aborts when the request does", async () => {
    let signal: AbortSignal | undefined;
    let release!: () => void;
    const reader: LogReader = {
      recent: (_f, _l, s) => {
        signal = s;
        return new Promise((resolve) => release = () => resolve([]));
      },
      chain: () => Promise.resolve({ records: [], cut: false }),
      close: () => Promise.resolve(),
    };
    const request = new AbortController();
    const handle = createHandler({ source: reader, pageSize: 5, refreshSeconds: 0 });
    const answer = handle(new Request("http://127.0.0.1/?template=prd", { signal: request.signal }));
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(signal && !signal.aborted);
    request.abort();
    assert.equal(signal!.aborted, true);
    release();
    await (await answer).body?.cancel();
  });
});

Deno.test("reads are bounded in time on both stores", async (t) => {
  await t.step("query_timeout_ms: 10 s by default, from the file or LOG_DUMPER_QUERY_TIMEOUT_MS", () => {
    assert.equal(observerConfig({}).queryTimeoutMs, 10_000);
    assert.equal(observerConfig({}, "query_timeout_ms = 2500\n").queryTimeoutMs, 2500);
    assert.equal(observerConfig({ LOG_DUMPER_QUERY_TIMEOUT_MS: "700" }).queryTimeoutMs, 700);
    assert.throws(() => observerConfig({ LOG_DUMPER_QUERY_TIMEOUT_MS: "0" }), /query_timeout_ms/);
  });
  await t.step("MariaDB: a statement timeout, a socket timeout past it, TCP keep-alive", () => {
    const options = poolOptions(observerConfig({}).mariadb, 10_000);
    assert.equal(options.queryTimeout, 10_000);
    assert.ok(options.socketTimeout! > 10_000);
    assert.ok(options.idleTimeout! * 1000 < options.socketTimeout!, "idle connections close before it fires");
    assert.equal(typeof options.keepAliveDelay, "number");
  });
  await t.step("MongoDB: a socket timeout past the finds' maxTimeMS", () => {
    assert.ok(clientOptions(observerConfig({}).mongodb, 10_000).socketTimeoutMS! > 10_000);
  });
});

Deno.test("a live list that found the store down tries again by itself", async () => {
  const down: LogReader = {
    recent: () => Promise.reject(new StoreError(new Error("connect ECONNREFUSED"))),
    chain: () => Promise.reject(new StoreError(new Error("connect ECONNREFUSED"))),
    close: () => Promise.resolve(),
  };
  const handle = createHandler({ source: down, pageSize: 5, refreshSeconds: 4 });
  const live = await get(handle, "/");
  assert.equal(live.status, 503);
  assert.match(live.text, /http-equiv="refresh" content="4"/);
  assert.match(live.text, /Log store unavailable/);
  for (const path of ["/?refresh=0", "/?before=9", "/?template=prd", "/chain?id=x", "/ipl"]) {
    const page = await get(handle, path);
    assert.equal(page.status, 503, path);
    assert.ok(!page.text.includes("http-equiv"), `${path} is no live view`);
  }
  assert.ok(!errorPage("x", "y").includes("http-equiv"));
});

Deno.test("filter times outside the years 1000–9999 are ignored, and the page says so", async (t) => {
  await t.step("only ISO times of four-digit years are taken", () => {
    for (
      const bad of [
        "+010000-01-01T00:00",
        "10000-01-01T00:00",
        "0999-12-31T00:00",
        "yesterday",
        "1",
        "-000001-01-01",
        // No such day or hour: Date.parse would roll them over to another day.
        "2025-02-30",
        "2025-01-02T24:00",
        "2025-01-02T10:60",
        "2025-01-02T10:00+24:00",
      ]
    ) {
      assert.equal(filterTime(bad), undefined, bad);
      assert.deepEqual(filterSql({ since: bad }), { where: "", values: [] }, bad);
      assert.deepEqual(recordFilter({ until: bad }), {}, bad);
    }
    assert.equal(filterTime("1000-01-01T00:00:00+01:00"), undefined, "year 999 in UTC");
    assert.equal(filterTime("9999-12-31T23:59:59.999Z"), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    assert.equal(filterTime("2025-01-02"), Date.UTC(2025, 0, 2));
    assert.equal(filterTime("2025-01-02 03:04"), Date.UTC(2025, 0, 2, 3, 4));
    assert.equal(filterTime("2024-02-29T10:00:00.5Z"), Date.UTC(2024, 1, 29, 10, 0, 0, 500));
    assert.equal(filterTime("2025-01-02+01:00"), Date.UTC(2025, 0, 1, 23), "a day in a zone");
    assert.equal(filterTime("2025-01-02T10:30-02:30"), Date.UTC(2025, 0, 2, 13, 0));
  });
  await t.step("the events page names the value it ignored", async () => {
    const { filter, ignored } = filterFrom(
      new URLSearchParams("since=%2B010000-01-01T00:00&until=2025-01-02T00:00"),
    );
    assert.equal(filter.since, undefined);
    assert.equal(filter.until, "2025-01-02T00:00");
    assert.deepEqual(ignored, [{ field: "since", value: "+010000-01-01T00:00" }]);
    const handle = createHandler({ source: unfolding(store([])), pageSize: 5, refreshSeconds: 0 });
    const page = await get(handle, "/?until=20000-01-01T00:00");
    assert.equal(page.status, 200);
    assert.match(page.text, /Ignored until “20000-01-01T00:00”: not a date and time in the years 1000–9999/);
  });
});
