/**
 * `deno task bench`: runs every scenario of `lab/bench/scenarios/` against
 * a BEDS node child process and, in the same run, against the raw ceilings;
 * prints a table per scenario and writes `lab/results/<timestamp>.json` and
 * `.html`. `--gate` runs the short CI version and compares the ratios with
 * `lab/baselines/gate.json`; `--baseline` rewrites that file, and only from a
 * run that measured every gate scenario (no `--only`, none skipped or failed).
 *
 * Flags (checked by `flags.ts`; a malformed value exits with 2 before anything runs): `--gate`,
 * `--baseline`, `--only a,b`, `--warmup MS`, `--duration MS`, `--rounds N`, `--tolerance 0.75`
 * (0 < t ≤ 1), `--logstore mariadb|off` (where the node records its events; default mariadb),
 * `--db-connections N` (the node's pipelined MariaDB connections and the raw ceiling's; default 2),
 * `--fold-parts on|off` (`[logstore] fold_parts`, a fan-out's parts in their parent's record; default
 * on), `--profile` (the node writes a V8 CPU profile). Scenarios marked
 * `explicit` (e.g. `rss_1m`, a million requests) run only when named in `--only`.
 *
 * @module
 */
import { createBenchEnv } from "./env.ts";
import { parseFlags } from "./flags.ts";
import {
  compareWithBaseline,
  conditionMismatches,
  type GateFile,
  judgeRemeasured,
  readBaseline,
  writeBaseline,
} from "./gate.ts";
import { machineLoad } from "./proc.ts";
import { nodeV8Flags } from "../node_flags.ts";
import { renderReport } from "./report.ts";
import { RATIOS, type ScenarioResult } from "./results.ts";
import { createRunner, type Runner } from "./runner.ts";
import { loadScenarios, type Scenario } from "./scenario.ts";
import { scenarioTable, summaryTable } from "./table.ts";

/** Where the committed gate baseline lives. */
const BASELINE = "lab/baselines/gate.json";

async function gitRevision(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    stdout: "piped",
    stderr: "null",
  })
    .output().catch(() => undefined);
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
}

async function main(): Promise<number> {
  const parsed = parseFlags(Deno.args);
  if ("error" in parsed) {
    console.error(`bench: ${parsed.error}`);
    return 2;
  }
  const flags = parsed.flags;
  const { gate, warmupMs, durationMs, rounds, tolerance, logstore, dbConnections, foldParts } = flags;
  const root = Deno.cwd();
  let scenarios = await loadScenarios(`${root}/lab/bench/scenarios`);
  if (gate) scenarios = scenarios.filter((s) => s.gate);
  if (flags.only) {
    const wanted = new Set(flags.only);
    scenarios = scenarios.filter((s) => wanted.has(s.name));
  } else {
    // Long measurements (the million-request memory run) only when asked for by name.
    scenarios = scenarios.filter((s) => !s.explicit);
  }
  // What the ratios depend on: recorded in the results (and so the baseline), compared by the gate.
  const settings = { logstore, fold_parts: foldParts, db_connections: dbConnections, ratios: RATIOS };
  // What a baseline must hold (--baseline takes no --only, so this is every gate scenario).
  const gateScenarios = scenarios.map((s) => s.name);
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const progress = (line: string, final: boolean) => {
    if (tty) Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}${final ? "\n" : ""}`));
    else if (final) console.error(line);
  };

  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const profileDir = flags.profile ? `${root}/lab/results/prof-${stamp}` : undefined;
  const before = machineLoad();
  console.error(
    `bench: ${scenarios.length} scenarios, warm-up ${warmupMs} ms, window ${durationMs} ms, ${rounds} rounds, load ${before.load1} on ${before.cpus} CPUs`,
  );
  const env = await createBenchEnv({ root, logstore, foldParts, dbConnections });
  const results: ScenarioResult[] = [];
  let exitCode = 0;
  let runner: Runner | undefined;
  // Child processes outlive an interrupted parent: stop them and remove the bench's queues and schema first.
  let interrupting = false;
  const interrupted = async () => {
    if (interrupting) return;
    interrupting = true;
    console.error("\nbench: interrupted; stopping the node and raw services, cleaning up");
    await runner?.close().catch(() => {});
    await env.cleanup();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  try {
    const running = runner = await createRunner({
      env,
      warmupMs,
      durationMs,
      rounds,
      progress,
      profileDir,
      // The gate judges BEDS against (c) only: the metrics-off variant and the other raw ceilings
      // after the first round would only lengthen it; its time goes to more rounds of that pair.
      variants: !gate,
      ceilingsEveryRound: !gate,
    });
    const measure = async (scenario: Scenario): Promise<ScenarioResult> => {
      const result = await running.run(scenario).catch((error) => ({
        name: scenario.name,
        description: scenario.description,
        load: scenario.load,
        nodes: scenario.nodes,
        skipped: `failed: ${(error as Error).message}`,
      }));
      if (result.skipped) console.error(`  skipped: ${result.skipped}`);
      return result;
    };
    for (const [i, scenario] of scenarios.entries()) {
      console.error(`[${i + 1}/${scenarios.length}] ${scenario.name}`);
      results.push(await measure(scenario));
    }
    if (gate && !flags.baseline) {
      const baseline = await readBaseline(`${root}/${BASELINE}`);
      const mismatches = baseline ? conditionMismatches(baseline, settings) : [];
      for (const line of mismatches) {
        console.error(`bench: warning: ${line}; the ratios compare other settings`);
      }
      let verdict = compareWithBaseline(results, baseline, tolerance);
      if (baseline && verdict.remeasure.length) {
        // A shared machine has noisy moments: measure a regressed scenario once more before failing.
        console.error(`bench: re-measuring ${verdict.remeasure.join(", ")} once`);
        for (const name of verdict.remeasure) {
          const scenario = scenarios.find((s) => s.name === name);
          if (!scenario) continue;
          const index = results.findIndex((r) => r.name === name);
          const judged = judgeRemeasured(results[index]!, await measure(scenario), baseline, tolerance);
          for (const line of judged.lines) console.log(line);
          results[index] = judged.result;
        }
        verdict = compareWithBaseline(results, baseline, tolerance);
      }
      for (const line of verdict.lines) console.log(line);
      if (verdict.failed.length) exitCode = 1;
    }
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    await runner?.close();
    await env.cleanup();
  }

  const after = machineLoad();
  console.log("");
  for (const r of results) console.log(scenarioTable(r).join("\n") + "\n");
  console.log(summaryTable(results).join("\n"));
  const file: GateFile = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    mode: gate ? "gate" : "full",
    warmup_ms: warmupMs,
    duration_ms: durationMs,
    rounds,
    conditions: {
      load1_before: before.load1,
      load1_after: after.load1,
      cpus: before.cpus,
      deno: Deno.version.deno,
      ...settings,
      node_v8_flags: nodeV8Flags(root).join(" "),
      git: await gitRevision(),
    },
    scenarios: results,
  };
  await Deno.mkdir(`${root}/lab/results`, { recursive: true });
  const base = `${root}/lab/results/${stamp}${gate ? "-gate" : ""}`;
  await Deno.writeTextFile(`${base}.json`, JSON.stringify(file, null, 2) + "\n");
  await Deno.writeTextFile(`${base}.html`, renderReport(file));
  console.log(`\nresults: ${base}.json\nreport:  ${base}.html`);
  if (profileDir) {
    console.log(
      `profile: ${profileDir} (summarise with: deno run -A lab/bench/profile_top.ts ${profileDir}/node, …/echo_db, …/echo)`,
    );
  }
  if (flags.baseline) {
    try {
      await writeBaseline(`${root}/${BASELINE}`, file, gateScenarios);
    } catch (error) {
      console.error(`bench: ${(error as Error).message}`);
      return 1;
    }
    console.log(`baseline written: ${BASELINE}`);
  }
  return exitCode;
}

if (import.meta.main) Deno.exit(await main());
