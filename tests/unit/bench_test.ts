import assert from "node:assert/strict";
import { type Baseline, compareWithBaseline, conditionMismatches } from "../../lab/bench/gate.ts";
import { RATIOS, type Runs, type ScenarioResult, summarise } from "../../lab/bench/results.ts";
import type { PhaseResult } from "../../lab/bench/phase.ts";
import { runCounted } from "../../lab/bench/counted.ts";
import { scenarioTable, summaryTable } from "../../lab/bench/table.ts";
import { loadScenarios, rawStatements, requestKinds, scenarioSchema } from "../../lab/bench/scenario.ts";
import { sourceOf } from "../../lab/bench/profile_top.ts";
import { paddedReply } from "../../lab/bench/raw_service.ts";
import { parseSettings } from "../../lab/bench/ab_node.ts";

const baseline: Baseline = {
  created: "2026-01-01T00:00:00Z",
  conditions: {},
  scenarios: { read_key: { ratio: 0.8, cpu_ratio: 1.2, tps: 1000, cpu_us_per_tx: 100 } },
};

function result(ratio: number, cpuRatio: number, errors = 0): ScenarioResult {
  return {
    name: "read_key",
    description: "",
    load: { mode: "closed", concurrency: 1 },
    nodes: 1,
    ratio,
    cpu_ratio: cpuRatio,
    errors,
    beds: { completed: 1000 } as ScenarioResult["beds"],
  };
}

Deno.test("compareWithBaseline() passes ratios within the tolerance", () => {
  const verdict = compareWithBaseline([result(0.61, 1.59)], baseline, 0.75);
  assert.deepEqual(verdict.failed, []);
  assert.match(verdict.lines.join("\n"), /ok {3}read_key: ratio 0\.61 \(baseline 0\.8\)/);
});

Deno.test("compareWithBaseline() fails a regression and prints both numbers", async (t) => {
  await t.step("throughput ratio below baseline × tolerance", () => {
    const verdict = compareWithBaseline([result(0.59, 1.2)], baseline, 0.75);
    assert.deepEqual(verdict.failed, ["read_key"]);
    assert.match(verdict.lines.join("\n"), /FAIL read_key: .*ratio 0\.59 < 0\.600/);
  });
  await t.step("cpu ratio above baseline ÷ tolerance", () => {
    const verdict = compareWithBaseline([result(0.8, 1.61)], baseline, 0.75);
    assert.deepEqual(verdict.failed, ["read_key"]);
    assert.match(verdict.lines.join("\n"), /cpu_ratio 1\.61 > 1\.600/);
  });
  await t.step("more than 1 % of requests failed", () => {
    const verdict = compareWithBaseline([result(0.8, 1.2, 11)], baseline, 0.75);
    assert.deepEqual(verdict.failed, ["read_key"]);
  });
});

Deno.test("compareWithBaseline() skips a scenario the baseline lacks whose template is not loaded, fails a broken one", () => {
  const notLoaded = {
    ...result(0, 0),
    name: "fanout_dsh",
    skipped: "template dsh is not loaded in the node (UNKNOWN_TEMPLATE)",
  };
  assert.deepEqual(compareWithBaseline([notLoaded, result(0.8, 1.2)], baseline, 0.75).failed, []);
  const broken = { ...result(0, 0), skipped: "probe of read.cus failed: DB_ERROR boom" };
  assert.deepEqual(compareWithBaseline([broken], baseline, 0.75).failed, ["read_key"]);
});

Deno.test("compareWithBaseline() fails without a baseline", () => {
  assert.equal(compareWithBaseline([result(1, 1)], undefined, 0.75).failed.length, 1);
});

Deno.test("loadScenarios() validates every scenario file of lab/bench/scenarios", async () => {
  const scenarios = await loadScenarios("lab/bench/scenarios");
  assert.ok(scenarios.some((s) => s.name === "read_key" && s.gate));
  assert.ok(scenarios.some((s) => s.name === "fanout_dsh" && s.requests[0]!.raw.length === 4));
  assert.ok(
    scenarios.some((s) => s.name === "read_key" && s.metrics_off),
    "read_key also runs without metrics",
  );
  const rss = scenarios.find((s) => s.name === "rss_1m");
  assert.deepEqual(rss?.count, { total: 1_000_000, rss_every: 100_000 });
  assert.ok(rss?.explicit && !rss.gate, "the million-request run is opt-in and not in the gate");
});

function phaseOf(tps: number, cpu: number): PhaseResult {
  return {
    tps,
    completed: tps,
    ok: tps,
    errors: 0,
    error_codes: {},
    p50_ms: 1,
    p90_ms: 2,
    p99_ms: 3,
    max_ms: 4,
    cpu_us_per_tx: cpu,
    client_cpu_us_per_tx: 0,
    rabbitmq_cpu_us_per_tx: 0,
    mariadb_cpu_us_per_tx: 0,
    rss_before_kib: 1024,
    rss_after_kib: 2048,
    timeline: [],
    bucket_ms: 250,
    curve_ms: [],
  };
}

Deno.test("summarise() reports BEDS with metrics against BEDS without", async (t) => {
  const base = {
    name: "read_key",
    description: "",
    load: { mode: "closed" as const, concurrency: 1 },
    nodes: 1,
  };
  const runs: Runs = {
    echo: [phaseOf(4000, 50)],
    db_pool: [phaseOf(5000, 100)],
    db_pipelined: [phaseOf(9000, 60)],
    echo_db: [phaseOf(2000, 100)],
    beds: [phaseOf(1800, 120), phaseOf(1900, 130)],
    beds_no_metrics: [phaseOf(2000, 110), phaseOf(1500, 100)],
  };
  const result = summarise(base, {}, "pipelined", runs, false);
  await t.step("best round's throughput, lowest CPU of any round; ratios the median of the rounds'", () => {
    assert.equal(result.beds_no_metrics!.tps, 2000);
    // tps 1800 ÷ 2000 and 1900 ÷ 1500; CPU 120 ÷ 110 and 130 ÷ 100: of two rounds, the mean.
    assert.equal(result.metrics_ratio, 1.083);
    assert.equal(result.metrics_cpu_ratio, 1.195);
  });
  await t.step("in the tables", () => {
    assert.match(scenarioTable(result).join("\n"), /BEDS no metrics +2000 /);
    assert.match(scenarioTable(result).join("\n"), /metrics_cpu_ratio 1\.195 /);
    assert.match(summaryTable([result])[1]!, /1\.195$/);
  });
  await t.step("absent when not measured", () => {
    const plain = summarise(base, {}, "pipelined", { ...runs, beds_no_metrics: undefined }, false);
    assert.equal(plain.metrics_ratio, undefined);
    assert.doesNotMatch(scenarioTable(plain).join("\n"), /no metrics/);
  });
});

Deno.test("runCounted() sends exactly the total and samples RSS every so many requests", async () => {
  let sent = 0;
  const result = await runCounted({
    concurrency: 4,
    total: 50,
    every: 10,
    send: () => Promise.resolve(++sent % 25 === 0 ? { ok: false, code: "BOOM" } : { ok: true }),
    pid: Deno.pid,
  });
  assert.equal(sent, 50);
  assert.equal(result.completed, 50);
  assert.deepEqual(result.samples.map((s) => s.requests), [10, 20, 30, 40, 50]);
  assert.ok(result.samples.every((s) => s.rss_kib > 0));
  assert.deepEqual(result.error_codes, { BOOM: 2 });
  const [first, last] = [result.samples[0]!.rss_kib, result.samples[4]!.rss_kib];
  assert.equal(result.rss_growth, Math.round((last - first) / first * 10_000) / 10_000);
  const summary = summaryTable([{
    name: "rss_1m",
    description: "",
    load: { mode: "closed", concurrency: 4 },
    nodes: 1,
    counted: result,
    tps: result.tps,
    p50_ms: result.p50_ms,
    p99_ms: result.p99_ms,
    errors: result.errors,
    cpu_us_per_tx: result.cpu_us_per_tx,
    rss_growth: result.rss_growth,
  }]);
  assert.match(summary[1]!, /^rss_1m .* - +- +rss [+-]\d+\.\d %$/);
});

Deno.test("scenario generators make unique SKUs that match the prd pattern", () => {
  const scenario = scenarioSchema.parse({
    name: "w",
    description: "",
    load: { mode: "closed", concurrency: 1 },
    requests: [{
      body: { template: "prd", op: "create", data: { sku: "$sku", id: "$int:3:4" } },
      raw: [{ sql: "CALL p(?, ?)", params: ["$data.sku", "$data.id"] }],
    }],
  });
  const make = requestKinds(scenario)[0]!.make;
  const made = Array.from({ length: 50 }, make);
  const skus = made.map((g) => (g.body.data as { sku: string }).sku);
  assert.equal(new Set(skus).size, 50);
  for (const sku of skus) assert.match(sku, /^[A-Z]{3}-[0-9]{4}$/);
  for (const g of made) {
    const [statement] = g.raw();
    assert.deepEqual(statement!.values, [g.body.data!.sku, g.body.data!.id]);
    assert.ok([3, 4].includes(g.body.data!.id as number));
  }
});

Deno.test("rawStatements() expands `each` into one statement per parameter list", () => {
  const statements = rawStatements([{ sql: "SELECT ?", each: [[1], ["$key.id"]] }], { key: { id: 7 } });
  assert.deepEqual(statements, [{ sql: "SELECT ?", values: [1] }, { sql: "SELECT ?", values: [7] }]);
});

Deno.test("paddedReply() is valid JSON of exactly the requested size", () => {
  for (const bytes of [10, 21, 200, 5000]) {
    const reply = paddedReply(bytes);
    assert.equal(reply.length, Math.max(bytes, 21));
    assert.equal(JSON.parse(reply.toString()).ok, true);
  }
});

Deno.test("sourceOf() groups profile URLs by BEDS folder, npm package and runtime", () => {
  assert.equal(sourceOf("file:///work/main/src/brokers/consumer.ts", "handle"), "src/brokers/");
  assert.equal(
    sourceOf("file:///root/.cache/deno/npm/registry.npmjs.org/mariadb/3.5.4/lib/cmd/parser.js", "f"),
    "npm:mariadb",
  );
  assert.equal(sourceOf("ext:deno_node/internal/buffer.mjs", "copy"), "ext:deno_node");
  assert.equal(sourceOf("", "(garbage collector)"), "(garbage collector)");
});

Deno.test("conditionMismatches() names the settings a run does not share with the baseline", () => {
  const base: Baseline = {
    ...baseline,
    conditions: { logstore: "mariadb", db_connections: 2, ratios: RATIOS, git: "abc" },
  };
  assert.deepEqual(conditionMismatches(base, { logstore: "mariadb", db_connections: 2, ratios: RATIOS }), []);
  assert.deepEqual(conditionMismatches(base, { logstore: "off", db_connections: 4, ratios: RATIOS }), [
    'logstore is "off" here, "mariadb" in the baseline',
    "db_connections is 4 here, 2 in the baseline",
  ]);
  // An older baseline without the setting compares nothing for it; one without `ratios` took
  // each system's best round.
  assert.deepEqual(
    conditionMismatches({ ...baseline, conditions: {} }, { db_connections: 4, ratios: RATIOS }),
    [
      'ratios is "median of rounds" here, "best round of each system" in the baseline',
    ],
  );
});

Deno.test("parseSettings() turns --b-set pairs into config sections, values as JSON where they parse", () => {
  assert.deepEqual(parseSettings(["logstore.flush_ms=100", "logstore.store=off", "http.enabled=false"]), {
    logstore: { flush_ms: 100, store: "off" },
    http: { enabled: false },
  });
  assert.deepEqual(parseSettings([]), {});
  assert.throws(() => parseSettings(["flush_ms=100"]), /section\.key=value/);
  assert.throws(() => parseSettings(["logstore.flush_ms"]), /section\.key=value/);
});
