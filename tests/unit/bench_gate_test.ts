/**
 * The gate and its baseline: a gate scenario without a baseline entry fails, the baseline is
 * only written from a run that measured every gate scenario, a scenario measured again is
 * judged on its second measurement alone, and a phase that completed nothing fails its scenario.
 */
import assert from "node:assert/strict";
import {
  type Baseline,
  compareWithBaseline,
  type GateFile,
  judgeRemeasured,
  readBaseline,
  writeBaseline,
} from "../../lab/bench/gate.ts";
import type { PhaseResult } from "../../lab/bench/phase.ts";
import type { ScenarioResult } from "../../lab/bench/results.ts";
import { phaseFailure } from "../../lab/bench/runner.ts";

const baseline: Baseline = {
  created: "2026-01-01T00:00:00Z",
  conditions: {},
  scenarios: {
    read_key: { ratio: 0.8, cpu_ratio: 1.2, tps: 1000, cpu_us_per_tx: 100 },
    mix: { ratio: 0.9, cpu_ratio: 1.1, tps: 1000, cpu_us_per_tx: 100 },
  },
};

function result(name: string, ratio: number, cpuRatio: number, errors = 0): ScenarioResult {
  return {
    name,
    description: "",
    load: { mode: "closed", concurrency: 1 },
    nodes: 1,
    rounds: 3,
    ratio,
    cpu_ratio: cpuRatio,
    tps: 1000,
    cpu_us_per_tx: 100,
    completed: 3000,
    errors,
    error_codes: errors ? { TIMEOUT: errors } : {},
    beds: { completed: 1000 } as PhaseResult,
  };
}

Deno.test("compareWithBaseline() fails a gate scenario that has no baseline entry", () => {
  const verdict = compareWithBaseline(
    [result("read_key", 0.8, 1.2), result("write_prd", 0.9, 1.1)],
    baseline,
    0.75,
  );
  assert.deepEqual(verdict.failed, ["write_prd"]);
  assert.match(verdict.lines.join("\n"), /FAIL write_prd: no baseline entry .*deno task bench:baseline/);
  assert.match(verdict.lines.join("\n"), /gate: FAILED \(write_prd\)/);
  assert.deepEqual(verdict.remeasure, [], "measuring again cannot create a baseline entry");
});

Deno.test("compareWithBaseline() measures again only what failed on its numbers", () => {
  const broken = { ...result("mix", 0, 0), skipped: "failed: BEDS node bench-x-0 exited with 137" };
  const verdict = compareWithBaseline([result("read_key", 0.5, 1.2), broken], baseline, 0.75);
  assert.deepEqual(verdict.failed, ["read_key", "mix"]);
  assert.deepEqual(verdict.remeasure, ["read_key"]);
});

Deno.test("judgeRemeasured() uses a second measurement that passes, even with a lower ratio", () => {
  // The first failed on cpu_ratio alone; its ratio is the higher of the two.
  const first = result("read_key", 0.95, 1.7);
  const again = result("read_key", 0.85, 1.3);
  const judged = judgeRemeasured(first, again, baseline, 0.75);
  assert.equal(judged.result, again);
  assert.deepEqual(compareWithBaseline([judged.result], baseline, 0.75).failed, []);
  assert.equal(judged.lines.length, 2, "both measurements are printed");
  assert.match(judged.lines[0]!, /first measurement: FAIL read_key: .*cpu_ratio 1\.7 > 1\.600/);
  assert.match(judged.lines[1]!, /measured again: +ok +read_key: ratio 0\.85 .*\(used\)$/);
});

Deno.test("judgeRemeasured() keeps the first measurement when the second fails too", () => {
  const first = result("read_key", 0.95, 1.7);
  const again = result("read_key", 0.99, 1.2, 100); // better ratios, but 100 of 3000 requests failed
  const judged = judgeRemeasured(first, again, baseline, 0.75);
  assert.equal(judged.result, first);
  assert.match(
    judged.lines[1]!,
    /FAIL read_key: .*100 errors of 3000 requests over 3 round\(s\) \(TIMEOUT 100\)/,
  );
});

function gateFile(scenarios: ScenarioResult[]): GateFile {
  return {
    started: "2026-02-02T00:00:00Z",
    finished: "2026-02-02T00:01:00Z",
    mode: "gate",
    warmup_ms: 400,
    duration_ms: 1000,
    rounds: 3,
    conditions: { logstore: "mariadb" },
    scenarios,
  };
}

Deno.test("writeBaseline() writes only a run that measured every gate scenario", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "beds_baseline_test_" });
  const path = `${dir}/gate.json`;
  const original = JSON.stringify(baseline, null, 2) + "\n";
  const gate = ["mix", "read_key"];
  try {
    await Deno.writeTextFile(path, original);
    await t.step("a skipped or failed gate scenario leaves the file as it was", async () => {
      const skipped = { ...result("mix", 0, 0), skipped: "template mix is not loaded in the node" };
      await assert.rejects(
        writeBaseline(path, gateFile([skipped, result("read_key", 0.9, 1.1)]), gate),
        /not written: mix did not run: template mix is not loaded/,
      );
      const failed = { ...result("read_key", 0, 0), skipped: "failed: probe of read.cus failed" };
      await assert.rejects(
        writeBaseline(path, gateFile([result("mix", 0.9, 1.1), failed]), gate),
        /read_key/,
      );
      assert.equal(await Deno.readTextFile(path), original);
    });
    await t.step("so does a run that measured only some of them", async () => {
      await assert.rejects(
        writeBaseline(path, gateFile([result("read_key", 0.9, 1.1)]), gate),
        /mix was not measured/,
      );
      assert.equal(await Deno.readTextFile(path), original);
    });
    await t.step("and one that lost more requests than the gate allows", async () => {
      await assert.rejects(
        writeBaseline(path, gateFile([result("mix", 0.9, 1.1), result("read_key", 0.9, 1.1, 31)]), gate),
        /read_key: 31 errors of 3000 requests/,
      );
      assert.equal(await Deno.readTextFile(path), original);
    });
    await t.step("a complete run replaces it", async () => {
      await writeBaseline(path, gateFile([result("mix", 0.91, 1.05), result("read_key", 0.93, 1.15)]), gate);
      const written = await readBaseline(path);
      assert.deepEqual(Object.keys(written!.scenarios).sort(), gate);
      assert.equal(written!.scenarios.read_key!.ratio, 0.93);
      assert.equal(written!.conditions.rounds, 3);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --baseline refuses --only before measuring anything", async () => {
  // An empty root: were the flag accepted, the bench would find no scenarios and fail otherwise.
  const dir = await Deno.makeTempDir({ prefix: "beds_baseline_cli_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${Deno.cwd()}/lab/bench/main.ts`, "--baseline", "--only", "read_key"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(stderr, /--baseline measures every gate scenario; it takes no --only/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("phaseFailure() fails a phase that completed no request", () => {
  const phase = (ok: number, errors: number, codes: Record<string, number>) =>
    ({ ok, completed: ok, errors, error_codes: codes }) as PhaseResult;
  assert.equal(phaseFailure("read_key · BEDS 2/3", phase(1200, 0, {})), undefined);
  assert.equal(
    phaseFailure("read_key · BEDS 2/3", phase(0, 32, { UNFINISHED: 32 })),
    "read_key · BEDS 2/3 completed no request in its window (32 errors: UNFINISHED 32)",
  );
  assert.match(phaseFailure("read_key · raw echo", phase(0, 0, {}))!, /completed no request .*\(0 errors\)/);
});
