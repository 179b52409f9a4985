/**
 * The bench never lets a lost request pass for a clean run: a request in flight during the
 * measured window that fails later, or never settles, counts as an error, and the gate adds up
 * the errors of every round rather than reading those of the best one.
 */
import assert from "node:assert/strict";
import { type Baseline, compareWithBaseline } from "../../lab/bench/gate.ts";
import { type Outcome, runLoad } from "../../lab/bench/load.ts";
import type { PhaseResult } from "../../lab/bench/phase.ts";
import { type Runs, summarise } from "../../lab/bench/results.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quickOk = () => sleep(1).then((): Outcome => ({ ok: true }));

Deno.test("runLoad() counts a request sent in the window that fails after it closes", async () => {
  const started = performance.now();
  let late: Promise<Outcome> | undefined;
  const result = await runLoad({
    spec: { mode: "closed", concurrency: 2 },
    warmupMs: 100,
    durationMs: 300,
    send: () => {
      const at = performance.now() - started;
      if (!late && at > 150 && at < 300) {
        // Answered (with the client's timeout) only after the window has closed.
        late = sleep(500).then(() => ({ ok: false, code: "TIMEOUT" }));
        return late;
      }
      return quickOk();
    },
  });
  assert.ok(late, "one request was held");
  assert.equal(result.errors, 1);
  assert.deepEqual(result.errorCodes, { TIMEOUT: 1 });
});

Deno.test("runLoad() counts a request still unanswered when the drain ends as UNFINISHED", async () => {
  const started = performance.now();
  let hung: Promise<Outcome> | undefined;
  // A variable, not a literal: the drain is an option of its own.
  const options = {
    spec: { mode: "closed" as const, concurrency: 2 },
    warmupMs: 100,
    durationMs: 300,
    drainMs: 300,
    send: () => {
      const at = performance.now() - started;
      if (!hung && at > 150 && at < 300) {
        // Its reply was lost: it settles long after the drain (here, even successfully).
        hung = sleep(2500).then(() => ({ ok: true }));
        return hung;
      }
      return quickOk();
    },
  };
  const result = await runLoad(options);
  const elapsed = performance.now() - started;
  try {
    assert.ok(hung, "one request was held");
    assert.equal(result.errors, 1);
    assert.deepEqual(result.errorCodes, { UNFINISHED: 1 });
    assert.ok(elapsed < 2000, `the drain stopped waiting (${elapsed.toFixed(0)} ms)`);
  } finally {
    await hung;
  }
});

function phase(tps: number, errors = 0, codes: Record<string, number> = {}): PhaseResult {
  return {
    tps,
    completed: tps,
    ok: tps - errors,
    errors,
    error_codes: codes,
    p50_ms: 1,
    p90_ms: 2,
    p99_ms: 3,
    max_ms: 4,
    cpu_us_per_tx: 100,
    client_cpu_us_per_tx: 0,
    rabbitmq_cpu_us_per_tx: 0,
    mariadb_cpu_us_per_tx: 0,
    rss_before_kib: 1024,
    rss_after_kib: 2048,
    timeline: [],
    bucket_ms: 250,
    curve_ms: [],
  } as PhaseResult;
}

Deno.test("the gate's error check adds up every round, not only the best one", () => {
  const baseline: Baseline = {
    created: "2026-01-01T00:00:00Z",
    conditions: {},
    scenarios: { read_key: { ratio: 1, cpu_ratio: 1, tps: 2000, cpu_us_per_tx: 100 } },
  };
  const raw = [phase(2000), phase(2000)];
  const runs: Runs = {
    echo: raw,
    db_pool: raw,
    db_pipelined: raw,
    echo_db: raw,
    // The second round lost 40 replies; the first is the best round.
    beds: [phase(2000), phase(1500, 40, { UNFINISHED: 40 })],
  };
  const base = {
    name: "read_key",
    description: "",
    load: { mode: "closed" as const, concurrency: 32 },
    nodes: 1,
  };
  const result = summarise(base, {}, "pipelined", runs, false);
  assert.equal(result.ratio, 0.875, "the ratios are the median of the rounds' (of two, the mean)");
  assert.equal(result.errors, 40);
  const verdict = compareWithBaseline([result], baseline, 0.75);
  assert.deepEqual(verdict.failed, ["read_key"]);
  assert.match(verdict.lines.join("\n"), /40 errors of 3500 requests over 2 round\(s\) \(UNFINISHED 40\)/);
});
