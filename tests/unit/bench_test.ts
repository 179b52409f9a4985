import assert from "node:assert/strict";
import { type Baseline, compareWithBaseline } from "../../lab/bench/gate.ts";
import type { ScenarioResult } from "../../lab/bench/results.ts";
import { loadScenarios, rawStatements, requestKinds, scenarioSchema } from "../../lab/bench/scenario.ts";
import { sourceOf } from "../../lab/bench/profile_top.ts";
import { paddedReply } from "../../lab/bench/raw_service.ts";

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

Deno.test("compareWithBaseline() skips a scenario whose template is not loaded but fails a broken one", () => {
  const notLoaded = { ...result(0, 0), skipped: "template dsh is not loaded in the node (UNKNOWN_TEMPLATE)" };
  assert.deepEqual(compareWithBaseline([notLoaded], baseline, 0.75).failed, []);
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
