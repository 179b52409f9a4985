/**
 * The CI regression gate: compares the ratios of a short run (BEDS ÷ the
 * raw ceiling measured in the same run) with a committed baseline. Absolute
 * times are never compared: they depend on the machine and its load, the
 * ratios much less.
 *
 * @module
 */
import type { ScenarioResult } from "./results.ts";

/** A results file (`lab/results/*.json`). */
export interface GateFile {
  started: string;
  finished: string;
  mode: "gate" | "full";
  warmup_ms: number;
  duration_ms: number;
  rounds: number;
  conditions: Record<string, unknown>;
  scenarios: ScenarioResult[];
}

/** The committed baseline: per scenario the ratios of a gate run. */
export interface Baseline {
  created: string;
  conditions: Record<string, unknown>;
  scenarios: Record<string, { ratio: number; cpu_ratio: number; tps: number; cpu_us_per_tx: number }>;
}

/** The gate's verdict: printable lines and the scenarios that regressed. */
export interface Verdict {
  lines: string[];
  failed: string[];
}

/** Reads the baseline; undefined when there is none. */
export async function readBaseline(path: string): Promise<Baseline | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as Baseline;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Writes the ratios of a gate run as the new baseline. */
export async function writeBaseline(path: string, file: GateFile): Promise<void> {
  if (file.mode !== "gate") throw new Error("A baseline must come from a gate run (--baseline)");
  const scenarios: Baseline["scenarios"] = {};
  for (const s of file.scenarios) {
    if (s.skipped) continue;
    scenarios[s.name] = {
      ratio: s.ratio!,
      cpu_ratio: s.cpu_ratio!,
      tps: s.tps!,
      cpu_us_per_tx: s.cpu_us_per_tx!,
    };
  }
  const baseline: Baseline = {
    created: file.started,
    conditions: {
      ...file.conditions,
      warmup_ms: file.warmup_ms,
      duration_ms: file.duration_ms,
      rounds: file.rounds,
    },
    scenarios,
  };
  await Deno.writeTextFile(path, JSON.stringify(baseline, null, 2) + "\n");
}

/** The run's settings a baseline's ratios depend on. */
const COMPARED_CONDITIONS = ["logstore", "fold_parts", "db_connections"] as const;

/**
 * Where this run's settings differ from the baseline's (the log store, the node's database
 * connections): its ratios then measure another configuration, so the gate says so.
 */
export function conditionMismatches(
  baseline: Baseline,
  current: Record<string, unknown>,
): string[] {
  return COMPARED_CONDITIONS.filter((key) =>
    key in baseline.conditions && baseline.conditions[key] !== current[key]
  ).map((key) =>
    `${key} is ${JSON.stringify(current[key])} here, ${
      JSON.stringify(baseline.conditions[key])
    } in the baseline`
  );
}

/** Largest share of BEDS requests that may fail in a gate run. */
const MAX_ERROR_SHARE = 0.01;

/**
 * Fails a scenario when its throughput ratio drops below `baseline × tolerance`,
 * its CPU ratio rises above `baseline ÷ tolerance`, more than 1 % of its
 * requests fail, or its probe failed. A scenario skipped because its
 * template is not loaded is reported, not failed.
 */
export function compareWithBaseline(
  results: readonly ScenarioResult[],
  baseline: Baseline | undefined,
  tolerance: number,
): Verdict {
  if (!baseline) {
    return {
      lines: ["gate: no baseline; create one with `deno task bench:baseline`"],
      failed: ["(baseline)"],
    };
  }
  const lines = [
    `gate: tolerance ${tolerance}: ratio must stay ≥ baseline × ${tolerance}, cpu_ratio ≤ baseline ÷ ${tolerance}`,
  ];
  const failed: string[] = [];
  for (const s of results) {
    const b = baseline.scenarios[s.name];
    if (s.skipped) {
      const notLoaded = /not loaded|no queue is bound/.test(s.skipped);
      lines.push(`  ${notLoaded ? "SKIP" : "FAIL"} ${s.name}: ${s.skipped}`);
      if (!notLoaded) failed.push(s.name);
      continue;
    }
    if (!b) {
      lines.push(`  NEW  ${s.name}: ratio ${s.ratio}, cpu_ratio ${s.cpu_ratio} (no baseline yet)`);
      continue;
    }
    const problems: string[] = [];
    const minRatio = b.ratio * tolerance;
    const maxCpu = b.cpu_ratio / tolerance;
    if (s.ratio! < minRatio) problems.push(`ratio ${s.ratio} < ${minRatio.toFixed(3)}`);
    if (s.cpu_ratio! > maxCpu) problems.push(`cpu_ratio ${s.cpu_ratio} > ${maxCpu.toFixed(3)}`);
    const share = s.beds!.completed ? s.errors! / s.beds!.completed : 1;
    if (share > MAX_ERROR_SHARE) problems.push(`${s.errors} errors of ${s.beds!.completed} requests`);
    const numbers =
      `ratio ${s.ratio} (baseline ${b.ratio}), cpu_ratio ${s.cpu_ratio} (baseline ${b.cpu_ratio})`;
    lines.push(
      `  ${problems.length ? "FAIL" : "ok  "} ${s.name}: ${numbers}${
        problems.length ? ": " + problems.join("; ") : ""
      }`,
    );
    if (problems.length) failed.push(s.name);
  }
  for (const name of Object.keys(baseline.scenarios)) {
    if (!results.some((s) => s.name === name)) lines.push(`  SKIP ${name}: not run`);
  }
  lines.push(failed.length ? `gate: FAILED (${failed.join(", ")})` : "gate: passed");
  return { lines, failed };
}
