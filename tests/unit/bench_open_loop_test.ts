/**
 * An open loop offers every system the same fixed rate, so a throughput ratio would read 1
 * however slow BEDS is: it is left out (null, "n/a"/"—") and BEDS's p99 is compared with the
 * naive raw service's instead, in the results, the tables, the report and the gate. Every
 * scenario also reports BEDS's own CPU per transaction (BEDS − (c)), which the gate prints but
 * does not judge.
 */
import assert from "node:assert/strict";
import {
  type Baseline,
  compareWithBaseline,
  type GateFile,
  readBaseline,
  writeBaseline,
} from "../../lab/bench/gate.ts";
import type { PhaseResult } from "../../lab/bench/phase.ts";
import { renderReport } from "../../lab/bench/report.ts";
import { type Runs, type ScenarioResult, summarise } from "../../lab/bench/results.ts";
import { scenarioTable, summaryTable } from "../../lab/bench/table.ts";

function phase(tps: number, p99: number, cpu: number): PhaseResult {
  return {
    tps,
    completed: tps * 4,
    ok: tps * 4,
    errors: 0,
    error_codes: {},
    p50_ms: p99 / 2,
    p90_ms: p99,
    p99_ms: p99,
    max_ms: p99,
    cpu_us_per_tx: cpu,
    client_cpu_us_per_tx: 0,
    rabbitmq_cpu_us_per_tx: 0,
    mariadb_cpu_us_per_tx: 0,
    rss_before_kib: 1024,
    rss_after_kib: 2048,
    timeline: [tps],
    bucket_ms: 250,
    curve_ms: [p99 / 2, p99],
  };
}

const raw = phase(1000, 5, 200);
/** BEDS ten times slower at the p99 than (c), 10 % more CPU per request. */
const runs = (beds: PhaseResult): Runs => ({
  beds: [beds],
  echo: [raw],
  db_pool: [raw],
  db_pipelined: [raw],
  echo_db: [raw],
});

const open = summarise(
  { name: "read_key_open", description: "fixed rate", load: { mode: "open", rate: 1000 }, nodes: 1 },
  {},
  "pipelined",
  runs(phase(1000, 50, 220)),
  true,
);
const closed = summarise(
  { name: "read_key", description: "", load: { mode: "closed", concurrency: 32 }, nodes: 1 },
  {},
  "pipelined",
  runs(phase(800, 50, 220)),
  false,
);

Deno.test("summarise() leaves an open loop's throughput ratios out and compares its p99 with (c)", () => {
  assert.equal(open.ratio, null);
  assert.equal(open.ratio_echo, null);
  assert.equal(open.ratio_db, null);
  assert.equal(open.p99_ratio, 10);
  assert.equal(open.p99_delta_ms, 45);
  assert.equal(open.cpu_ratio, 1.1);
  assert.equal(open.own_us_per_tx, 20);
  // JSON keeps the null: the results say the ratio does not apply, not that it is missing.
  assert.match(JSON.stringify(open), /"ratio":null/);
});

Deno.test("summarise() keeps a closed loop's throughput ratio and adds BEDS's own CPU", () => {
  assert.equal(closed.ratio, 0.8);
  assert.equal(closed.p99_ratio, undefined);
  assert.equal(closed.own_us_per_tx, 20);
});

Deno.test("the tables show an open loop's ratio as n/a and its p99 against (c)", () => {
  const table = scenarioTable(open).join("\n");
  assert.match(table, /ratio n\/a \(fixed rate\) +p99_ratio 10 \(BEDS ÷ echo\+db p99, \+45\.00 ms\)/);
  assert.match(table, /cpu_ratio 1\.1 .*own \+20\.0 µs\/tx/);
  assert.doesNotMatch(table, /vs echo/);
  const summary = summaryTable([closed, open]);
  assert.match(summary[0]!, /own µs\/tx +ratio +p99_ratio +cpu_ratio/);
  assert.match(summary[1]!, /^read_key .* \+20\.0 +0\.800 +— +1\.100 /);
  assert.match(summary[2]!, /^read_key_open .* \+20\.0 +— +10\.000 +1\.100 /);
});

Deno.test("the report renders an open loop's missing ratio as n/a", () => {
  const file: GateFile = {
    started: "2026-02-02T00:00:00Z",
    finished: "2026-02-02T00:01:00Z",
    mode: "full",
    warmup_ms: 1000,
    duration_ms: 4000,
    rounds: 1,
    conditions: {},
    scenarios: [closed, open],
  };
  const html = renderReport(file);
  assert.match(html, /ratio n\/a \(fixed rate\)/);
  assert.match(html, /p99_ratio \(open loop, p99 ÷ echo\+db\)/);
});

const baseline: Baseline = {
  created: "2026-01-01T00:00:00Z",
  conditions: {},
  scenarios: {
    read_key_open: { ratio: null, cpu_ratio: 1.1, tps: 1000, cpu_us_per_tx: 220, p99_ratio: 1.2 },
    read_key: { ratio: 0.8, cpu_ratio: 1.1, tps: 800, cpu_us_per_tx: 220 },
  },
};

Deno.test("the gate judges an open loop on its p99 ratio, not on a throughput ratio", () => {
  const quick: ScenarioResult = { ...open, p99_ratio: 1.5, p99_delta_ms: 2.5 };
  const passed = compareWithBaseline([quick], baseline, 0.75);
  assert.deepEqual(passed.failed, [], passed.lines.join("\n"));
  assert.match(
    passed.lines[1]!,
    /ok {3}read_key_open: ratio n\/a \(fixed rate\), p99_ratio 1\.5 \(baseline 1\.2\)/,
  );
  const slow = compareWithBaseline([open], baseline, 0.75);
  assert.deepEqual(slow.failed, ["read_key_open"]);
  assert.match(slow.lines.join("\n"), /p99_ratio 10 > 1\.600/);
});

Deno.test("the gate prints BEDS's own CPU per transaction next to the baseline's, without judging it", () => {
  const verdict = compareWithBaseline([{ ...closed, own_us_per_tx: 60 }], baseline, 0.75);
  assert.deepEqual(verdict.failed, []);
  assert.match(verdict.lines[1]!, /; own 60 µs\/tx \(baseline 20, not judged\);/);
});

Deno.test("the gate refuses a tolerance outside 0 < t ≤ 1 instead of passing everything", () => {
  for (const tolerance of [NaN, 0, -1, 1.5]) {
    assert.throws(() => compareWithBaseline([closed], baseline, tolerance), /0 < t ≤ 1/);
  }
});

Deno.test("writeBaseline() records an open loop's p99 ratio and its null throughput ratio", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_open_baseline_" });
  try {
    const file: GateFile = {
      started: "2026-02-02T00:00:00Z",
      finished: "2026-02-02T00:01:00Z",
      mode: "gate",
      warmup_ms: 400,
      duration_ms: 1000,
      rounds: 3,
      conditions: {},
      scenarios: [open],
    };
    await writeBaseline(`${dir}/gate.json`, file, ["read_key_open"]);
    const written = (await readBaseline(`${dir}/gate.json`))!.scenarios.read_key_open!;
    assert.equal(written.ratio, null);
    assert.equal(written.p99_ratio, 10);
    assert.deepEqual(compareWithBaseline([open], (await readBaseline(`${dir}/gate.json`))!, 0.75).failed, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
