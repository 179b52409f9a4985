/**
 * `deno task bench`: runs every scenario of `lab/bench/scenarios/` against
 * a BEDS node child process and, in the same run, against the raw ceilings;
 * prints a table per scenario and writes `lab/results/<timestamp>.json` and
 * `.html`. `--gate` runs the short CI version and compares the ratios with
 * `lab/baselines/gate.json`; `--baseline` rewrites that file, and only from a
 * run that measured every gate scenario (no `--only`, none skipped or failed).
 *
 * Flags: `--gate`, `--baseline`, `--only a,b`, `--warmup MS`, `--duration MS`,
 * `--rounds N`, `--tolerance 0.75`, `--logstore mariadb|off` (where the node records its
 * events; default mariadb), `--db-connections N` (the node's pipelined MariaDB connections and the
 * raw ceiling's; default 2), `--fold-parts on|off` (`[logstore] fold_parts`, a fan-out's parts in
 * their parent's record; default on), `--profile` (the node writes a V8 CPU profile). Scenarios marked
 * `explicit` (e.g. `rss_1m`, a million requests) run only when named in `--only`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createBenchEnv, DB_CONNECTIONS } from "./env.ts";
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
import type { ScenarioResult } from "./results.ts";
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
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      gate: { type: "boolean", default: false },
      baseline: { type: "boolean", default: false },
      only: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      rounds: { type: "string" },
      tolerance: { type: "string", default: "0.75" },
      profile: { type: "boolean", default: false },
      logstore: { type: "string", default: "mariadb" },
      "db-connections": { type: "string" },
      "fold-parts": { type: "string", default: "on" },
    },
  });
  const gate = values.gate || values.baseline;
  // The gate takes more, shorter rounds: on a shared machine the best of three short windows is steadier.
  const warmupMs = Number(values.warmup ?? (gate ? 400 : 1000));
  const durationMs = Number(values.duration ?? (gate ? 1000 : 4000));
  const rounds = Number(values.rounds ?? (gate ? 3 : 2));
  const tolerance = Number(values.tolerance);
  const root = Deno.cwd();
  if (values.baseline && values.only) {
    // The baseline is rewritten whole: a partial run would drop the other scenarios from the gate.
    console.error("bench: --baseline measures every gate scenario; it takes no --only");
    return 2;
  }
  let scenarios = await loadScenarios(`${root}/lab/bench/scenarios`);
  if (gate) scenarios = scenarios.filter((s) => s.gate);
  if (values.only) {
    const wanted = new Set(values.only.split(","));
    scenarios = scenarios.filter((s) => wanted.has(s.name));
  } else {
    // Long measurements (the million-request memory run) only when asked for by name.
    scenarios = scenarios.filter((s) => !s.explicit);
  }
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
  const profileDir = values.profile ? `${root}/lab/results/prof-${stamp}` : undefined;
  const before = machineLoad();
  console.error(
    `bench: ${scenarios.length} scenarios, warm-up ${warmupMs} ms, window ${durationMs} ms, ${rounds} rounds, load ${before.load1} on ${before.cpus} CPUs`,
  );
  const logstore = values.logstore === "off" ? "off" : "mariadb";
  const dbConnections = Number(values["db-connections"] ?? DB_CONNECTIONS);
  if (!Number.isInteger(dbConnections) || dbConnections < 1) {
    console.error(`bench: --db-connections must be a whole number ≥ 1`);
    return 2;
  }
  if (values["fold-parts"] !== "on" && values["fold-parts"] !== "off") {
    console.error(`bench: --fold-parts must be on or off`);
    return 2;
  }
  const foldParts = values["fold-parts"] === "on";
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
      // The gate compares ratios only; the metrics-off variant would only lengthen it.
      variants: !gate,
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
    if (gate && !values.baseline) {
      const baseline = await readBaseline(`${root}/${BASELINE}`);
      const mismatches = baseline
        ? conditionMismatches(baseline, { logstore, fold_parts: foldParts, db_connections: dbConnections })
        : [];
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
      logstore,
      fold_parts: foldParts,
      db_connections: dbConnections,
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
  if (values.baseline) {
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
