/**
 * The gate on a shared, loaded machine: a gate scenario that does not run fails it (only one the
 * baseline never measured may be skipped), a gate that judged nothing fails; each ratio is the
 * median of the rounds' own ratios, so one noisy round of one system no longer decides it; and
 * every judged line says the extra cost per request this run would have failed, since a fixed
 * ratio limit lets more µs through when the machine is slower.
 */
import assert from "node:assert/strict";
import { type Baseline, compareWithBaseline, conditionMismatches } from "../../lab/bench/gate.ts";
import { detectionUsPerTx } from "../../lab/bench/detection.ts";
import type { PhaseResult } from "../../lab/bench/phase.ts";
import { median, RATIOS, type Runs, type ScenarioResult, summarise } from "../../lab/bench/results.ts";
import { systemsOfRound } from "../../lab/bench/runner.ts";

function phase(tps: number, cpu: number, p99 = 10): PhaseResult {
  return {
    tps,
    completed: Math.round(tps),
    ok: Math.round(tps),
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
    rss_after_kib: 1024,
    timeline: [tps],
    bucket_ms: 250,
    curve_ms: [],
  };
}

const base = (name: string) => ({
  name,
  description: "",
  load: { mode: "closed" as const, concurrency: 4 },
  nodes: 1,
});

/** A closed-loop scenario from its rounds: [tps, CPU µs/tx] of BEDS and of (c), round by round. */
function measured(name: string, beds: [number, number][], naive: [number, number][]): ScenarioResult {
  const echoDb = naive.map(([tps, cpu]) => phase(tps, cpu));
  const runs: Runs = {
    echo: [echoDb[0]!],
    db_pool: [echoDb[0]!],
    db_pipelined: [echoDb[0]!],
    echo_db: echoDb,
    beds: beds.map(([tps, cpu]) => phase(tps, cpu)),
  };
  return summarise(base(name), {}, "pipelined", runs, false);
}

/** The committed baseline's fan-out and read entries (2026-11-29). */
const baseline: Baseline = {
  created: "2026-11-29T04:01:06.476Z",
  conditions: { logstore: "mariadb", rounds: 3 },
  scenarios: {
    fanout_dsh: { ratio: 0.826, cpu_ratio: 1.413, tps: 951, cpu_us_per_tx: 515.2 },
    read_key: { ratio: 0.903, cpu_ratio: 1.181, tps: 7571, cpu_us_per_tx: 53.5 },
  },
};

const ok = (name: string) =>
  measured(name, [[900, 110], [900, 110], [900, 110]], [[1000, 100], [1000, 100], [1000, 100]]);
const skipped = (name: string, why: string): ScenarioResult => ({ ...base(name), skipped: why });

Deno.test("a gate scenario the baseline measured fails when it is skipped, naming why", () => {
  const unbound = skipped("read_key", 'no queue is bound for "read.cus"');
  const verdict = compareWithBaseline([ok("fanout_dsh"), unbound], baseline, 0.75);
  assert.deepEqual(verdict.failed, ["read_key"]);
  assert.deepEqual(verdict.remeasure, [], "measuring again does not bind a queue");
  assert.match(
    verdict.lines.join("\n"),
    /FAIL read_key: no queue is bound for "read\.cus" \(the baseline measured it, so it must run\)/,
  );
  assert.match(verdict.lines.at(-1)!, /^gate: FAILED \(read_key\)$/);
});

Deno.test("a gate with every scenario skipped fails", () => {
  const why = "template cus is not loaded in the node (UNKNOWN_TEMPLATE)";
  const verdict = compareWithBaseline(
    Object.keys(baseline.scenarios).map((name) => skipped(name, why)),
    baseline,
    0.75,
  );
  assert.deepEqual(verdict.failed, ["fanout_dsh", "read_key"]);
  assert.match(verdict.lines.at(-1)!, /gate: FAILED/);
});

Deno.test("a scenario the baseline has no entry for may be skipped, but not all that the gate ran", async (t) => {
  const extra = skipped("write_prd", "template prd is not loaded in the node (UNKNOWN_TEMPLATE)");
  await t.step("next to judged ones it is reported, not failed", () => {
    const verdict = compareWithBaseline([ok("fanout_dsh"), ok("read_key"), extra], baseline, 0.75);
    assert.deepEqual(verdict.failed, []);
    assert.match(verdict.lines.join("\n"), /SKIP write_prd: template prd is not loaded/);
    assert.equal(verdict.lines.at(-1), "gate: passed");
  });
  await t.step("alone it leaves nothing judged, and the gate fails", () => {
    const verdict = compareWithBaseline([extra], baseline, 0.75);
    assert.deepEqual(verdict.failed, ["(nothing judged)"]);
    assert.match(verdict.lines.join("\n"), /FAIL no scenario was judged/);
  });
  await t.step("so does a gate that ran no scenario at all", () => {
    assert.deepEqual(compareWithBaseline([], baseline, 0.75).failed, ["(nothing judged)"]);
  });
});

Deno.test("median() of odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

Deno.test("summarise() pairs each round of BEDS with the same round of (c)", async (t) => {
  // fanout_dsh in a gate run at load 8–10 on 2 CPUs (2026-11-30 01:25 UTC): (c) ran 20, 189 and
  // 386/s, BEDS 15, 175 and 181/s. The best of each put BEDS's third round against (c)'s best.
  const fanout = measured(
    "fanout_dsh",
    [[15, 11333.3], [175, 2342.9], [181, 2154.7]],
    [[20, 7000], [189, 1693.1], [386, 1269.4]],
  );
  await t.step("the ratios are the median of the rounds' (0.75, 0.926, 0.469)", () => {
    assert.equal(fanout.ratio, 0.75);
    assert.equal(fanout.cpu_ratio, 1.619);
    assert.equal(fanout.own_us_per_tx, 885.3);
    assert.equal(fanout.rounds, 3);
    const pairs = fanout.round_pairs!.map((p) => `${p.beds.tps}/${p.echo_db.tps}`);
    assert.deepEqual(pairs, ["15/20", "175/189", "181/386"]);
  });
  await t.step("so one round of one system no longer fails the gate (best of each: 0.469 < 0.620)", () => {
    assert.deepEqual(compareWithBaseline([fanout], baseline, 0.75).failed, []);
  });
  await t.step("each system still reports its best round", () => {
    assert.equal(fanout.tps, 181);
    assert.equal(fanout.raw!.echo_db.tps, 386);
  });
  await t.step("a regression every round pays still fails", () => {
    // +150 µs of CPU per read in each round, at the load's (c) cost of 106–188 µs.
    const slow = measured(
      "read_key",
      [[2400, 256], [1300, 338], [2000, 270]],
      [[3000, 106], [1600, 188], [2600, 120]],
    );
    assert.deepEqual(compareWithBaseline([slow], baseline, 0.75).failed, ["read_key"]);
  });
  await t.step("a ceiling measured in the first round only is paired with BEDS's first", () => {
    assert.equal(fanout.ratio_echo, 0.75);
  });
});

Deno.test("detectionUsPerTx() is the extra cost per request at which this run fails", async (t) => {
  const b = baseline.scenarios.read_key!;
  // read_key: (c) 45.3 µs per read at the baseline's speed, 106–188 µs under load.
  const rounds = (scale: number): [[number, number][], [number, number][]] => [
    [[6800 / scale, 53.5 * scale], [6500 / scale, 55 * scale], [7000 / scale, 52 * scale]],
    [[7571 / scale, 45.3 * scale], [7300 / scale, 46 * scale], [7600 / scale, 45 * scale]],
  ];
  const quiet = measured("read_key", ...rounds(1));
  const loaded = measured("read_key", ...rounds(3));
  const quietUs = detectionUsPerTx(quiet, b, 0.75);
  const loadedUs = detectionUsPerTx(loaded, b, 0.75);
  await t.step("the CPU limit lets through as many more µs as (c) costs more", () => {
    assert.equal(quietUs.cpu, 17.8);
    assert.equal(loadedUs.cpu, 53.5);
  });
  await t.step("and the gate prints it on the scenario's line", () => {
    assert.match(
      compareWithBaseline([loaded], baseline, 0.75).lines[1]!,
      /^ {2}ok {3}read_key: .*; this run fails from \+53\.5 µs\/tx CPU \(cpu_ratio\), \+\d+(\.\d)? µs\/tx on its busiest path \(ratio\)$/,
    );
  });
  const addCpu = (s: ScenarioResult, us: number) =>
    measured(
      s.name,
      s.round_pairs!.map((p) => [p.beds.tps, p.beds.cpu_us_per_tx + us]),
      s.round_pairs!.map((p) => [p.echo_db.tps, p.echo_db.cpu_us_per_tx]),
    );
  const addTime = (s: ScenarioResult, us: number) =>
    measured(
      s.name,
      s.round_pairs!.map((p) => [1e6 / (1e6 / p.beds.tps + us), p.beds.cpu_us_per_tx]),
      s.round_pairs!.map((p) => [p.echo_db.tps, p.echo_db.cpu_us_per_tx]),
    );
  for (const [label, s, us] of [["quiet", quiet, quietUs], ["loaded", loaded, loadedUs]] as const) {
    await t.step(`${label}: just below it passes, just above it fails`, () => {
      const failed = (r: ScenarioResult) => compareWithBaseline([r], baseline, 0.75).failed.length > 0;
      assert.equal(failed(addCpu(s, us.cpu! - 0.5)), false);
      assert.equal(failed(addCpu(s, us.cpu! + 0.5)), true);
      assert.equal(failed(addTime(s, us.tps! - 0.5)), false);
      assert.equal(failed(addTime(s, us.tps! + 0.5)), true);
    });
  }
  await t.step("an older results file without rounds uses its best rounds", () => {
    const old = { ...quiet, round_pairs: undefined };
    assert.equal(detectionUsPerTx(old, b, 0.75).cpu, Math.round((45 * 1.181 / 0.75 - 52) * 10) / 10);
  });
});

Deno.test("a baseline without `ratios` took each system's best round: the gate warns", () => {
  assert.deepEqual(conditionMismatches(baseline, { logstore: "mariadb", ratios: RATIOS }), [
    'ratios is "median of rounds" here, "best round of each system" in the baseline',
  ]);
  assert.deepEqual(
    conditionMismatches({ ...baseline, conditions: { ratios: RATIOS } }, { ratios: RATIOS }),
    [],
  );
});

Deno.test("systemsOfRound(): the gate measures the raw ceilings once, then only (c) and BEDS", () => {
  const all = ["echo", "db_pool", "db_pipelined", "echo_db", "beds"];
  assert.deepEqual(systemsOfRound(1, "pipelined", false), all);
  assert.deepEqual(systemsOfRound(2, "pipelined", false), ["echo_db", "beds"]);
  assert.deepEqual(systemsOfRound(1, "pool", true), all);
  assert.deepEqual(systemsOfRound(2, "pool", true), ["echo", "db_pool", "echo_db", "beds"]);
  assert.deepEqual(systemsOfRound(3, "pipelined", true), ["echo", "db_pipelined", "echo_db", "beds"]);
});
