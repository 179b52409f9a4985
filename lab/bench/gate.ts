/**
 * The CI regression gate: compares the ratios of a short run (BEDS ÷ the
 * raw ceiling measured in the same run) with a committed baseline. Absolute
 * times are never compared: they depend on the machine and its load, the
 * ratios much less. BEDS's own CPU per transaction (BEDS − the raw ceiling,
 * in µs) is printed next to the baseline's but not judged: as the difference
 * of two noisy numbers it moves too much between runs on a shared machine.
 * What a fixed ratio limit lets through does depend on the machine's speed,
 * so each scenario's line also says the extra cost per request that this
 * run would have failed (`detection.ts`).
 *
 * @module
 */
import { describeDetection } from "./detection.ts";
import { ownUsPerTx, type ScenarioResult } from "./results.ts";

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

/** One scenario of the baseline. */
export interface BaselineEntry {
  /** Throughput ratio; null for an open loop (fixed rate), which has {@link p99_ratio} instead. */
  ratio: number | null;
  cpu_ratio: number;
  tps: number;
  cpu_us_per_tx: number;
  /** Open loop only: BEDS p99 ÷ the raw ceiling's. */
  p99_ratio?: number;
  /** BEDS's own CPU per transaction, µs (older baselines: computed from the two above). */
  own_us_per_tx?: number;
}

/** The committed baseline: per scenario the ratios of a gate run. */
export interface Baseline {
  created: string;
  conditions: Record<string, unknown>;
  scenarios: Record<string, BaselineEntry>;
}

/** The gate's verdict: printable lines and the scenarios that regressed. */
export interface Verdict {
  lines: string[];
  failed: string[];
  /**
   * The failed scenarios worth measuring once more: those that failed on their numbers alone
   * (ratio, cpu_ratio, error share). A scenario that failed to run, lost a node or has no
   * baseline entry fails whatever a second measurement says.
   */
  remeasure: string[];
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

/**
 * Why a gate run cannot become the baseline: a gate scenario it was to measure is missing,
 * was skipped or failed, or lost more requests than the gate allows. Empty when it can.
 */
export function baselineProblems(file: GateFile, gateScenarios: readonly string[]): string[] {
  const problems: string[] = [];
  if (file.mode !== "gate") problems.push("a baseline must come from a gate run (--baseline)");
  for (const name of gateScenarios) {
    const s = file.scenarios.find((r) => r.name === name);
    if (!s) problems.push(`${name} was not measured`);
    else if (s.skipped) problems.push(`${name} did not run: ${s.skipped}`);
    else if (errorShare(s) > MAX_ERROR_SHARE) problems.push(`${name}: ${describeErrors(s)}`);
  }
  return problems;
}

/**
 * Writes the ratios of a gate run as the new baseline. It replaces the whole file, so the run
 * must have measured every gate scenario: a partial or broken run would drop the others'
 * entries, and the gate would no longer check them.
 */
export async function writeBaseline(
  path: string,
  file: GateFile,
  gateScenarios: readonly string[],
): Promise<void> {
  const problems = baselineProblems(file, gateScenarios);
  if (problems.length) throw new Error(`the baseline was not written: ${problems.join("; ")}`);
  const scenarios: Baseline["scenarios"] = {};
  for (const s of file.scenarios) {
    scenarios[s.name] = {
      ratio: s.ratio ?? null,
      cpu_ratio: s.cpu_ratio!,
      tps: s.tps!,
      cpu_us_per_tx: s.cpu_us_per_tx!,
      ...(s.p99_ratio === undefined ? {} : { p99_ratio: s.p99_ratio }),
      ...(s.own_us_per_tx === undefined ? {} : { own_us_per_tx: s.own_us_per_tx }),
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
const COMPARED_CONDITIONS = ["logstore", "fold_parts", "db_connections", "ratios"] as const;

/**
 * What a baseline from before a setting was recorded measured; a setting missing here and
 * from the baseline is not compared.
 */
const BEFORE_RECORDED: Partial<Record<(typeof COMPARED_CONDITIONS)[number], unknown>> = {
  ratios: "best round of each system",
};

/**
 * Where this run's settings differ from the baseline's (the log store, the node's database
 * connections, how the ratios are computed): its ratios then measure another configuration,
 * so the gate says so.
 */
export function conditionMismatches(
  baseline: Baseline,
  current: Record<string, unknown>,
): string[] {
  const then = (key: (typeof COMPARED_CONDITIONS)[number]) =>
    key in baseline.conditions ? baseline.conditions[key] : BEFORE_RECORDED[key];
  return COMPARED_CONDITIONS.filter((key) => then(key) !== undefined && then(key) !== current[key])
    .map((key) =>
      `${key} is ${JSON.stringify(current[key])} here, ${JSON.stringify(then(key))} in the baseline`
    );
}

/** Largest share of BEDS requests that may fail in a gate run. */
const MAX_ERROR_SHARE = 0.01;

/** BEDS's requests over all rounds (older results: the reported round's). */
const requestsOf = (s: ScenarioResult) => s.completed ?? s.beds?.completed ?? 0;

/** Share of BEDS's requests that failed, over all rounds; 1 when none completed. */
function errorShare(s: ScenarioResult): number {
  const requests = requestsOf(s);
  return requests ? (s.errors ?? 0) / requests : 1;
}

function describeErrors(s: ScenarioResult): string {
  const codes = Object.entries(s.error_codes ?? {}).map(([code, n]) => `${code} ${n}`).join(", ");
  return `${s.errors ?? 0} errors of ${requestsOf(s)} requests over ${s.rounds ?? 1} round(s)${
    codes ? ` (${codes})` : ""
  }`;
}

/**
 * BEDS's own CPU per transaction on top of the raw ceiling's, µs; the baseline has only the total
 * and the CPU ratio to compute it from. Undefined without them.
 */
function ownOf(r: BaselineEntry | ScenarioResult): number | undefined {
  const own = "name" in r ? ownUsPerTx(r) : r.own_us_per_tx;
  if (own !== undefined) return own;
  if (!r.cpu_us_per_tx || !r.cpu_ratio) return undefined;
  return Math.round((r.cpu_us_per_tx - r.cpu_us_per_tx / r.cpu_ratio) * 10) / 10;
}

/** The numbers of a result next to the baseline's. */
function describe(s: ScenarioResult, b: BaselineEntry, tolerance: number): string {
  const speed = typeof s.ratio === "number"
    ? `ratio ${s.ratio} (baseline ${b.ratio ?? "n/a"})`
    : `ratio n/a (fixed rate), p99_ratio ${s.p99_ratio ?? "n/a"} (baseline ${b.p99_ratio ?? "n/a"})`;
  const [own, ownBase] = [ownOf(s), ownOf(b)];
  const ownText = own === undefined || ownBase === undefined
    ? ""
    : `; own ${own} µs/tx (baseline ${ownBase}, not judged)`;
  return `${speed}, cpu_ratio ${s.cpu_ratio} (baseline ${b.cpu_ratio})${ownText}${
    describeDetection(s, b, tolerance)
  }`;
}

/**
 * Refuses a tolerance outside 0 < t ≤ 1: NaN or 0 would make every comparison pass (`main.ts`
 * already refuses such a flag; this keeps any other caller from the same silence).
 */
function checkTolerance(tolerance: number): void {
  if (!(tolerance > 0 && tolerance <= 1)) {
    throw new RangeError(`the gate's tolerance must be a number with 0 < t ≤ 1, not ${tolerance}`);
  }
}

/**
 * One scenario against the baseline: its line, whether it failed, whether a retry may help,
 * and whether it was skipped, which leaves it unjudged.
 */
function judge(
  s: ScenarioResult,
  baseline: Baseline,
  tolerance: number,
): { line: string; failed: boolean; remeasure: boolean; skipped: boolean } {
  checkTolerance(tolerance);
  const b = baseline.scenarios[s.name];
  if (s.skipped) {
    // A template this config does not load may skip a scenario the baseline never measured. One
    // the baseline measured must run: a changed config or binding would otherwise pass unjudged.
    const notLoaded = /not loaded|no queue is bound/.test(s.skipped);
    const skip = notLoaded && !b;
    // One line per scenario: a dead node's last output follows its first line, printed already.
    const reason = s.skipped.split("\n")[0];
    return {
      line: `  ${skip ? "SKIP" : "FAIL"} ${s.name}: ${reason}${
        notLoaded && b ? " (the baseline measured it, so it must run)" : ""
      }`,
      failed: !skip,
      remeasure: false,
      skipped: skip,
    };
  }
  if (!b) {
    const speed = typeof s.ratio === "number" ? `ratio ${s.ratio}` : `p99_ratio ${s.p99_ratio}`;
    return {
      line: `  FAIL ${s.name}: no baseline entry to compare ${speed}, cpu_ratio ${s.cpu_ratio} with; ` +
        "record one with `deno task bench:baseline`",
      failed: true,
      remeasure: false,
      skipped: false,
    };
  }
  const problems: string[] = [];
  // A throughput ratio where both have one; an open loop (fixed rate) has a p99 ratio instead.
  if (typeof s.ratio === "number" && typeof b.ratio === "number") {
    const minRatio = b.ratio * tolerance;
    if (s.ratio < minRatio) problems.push(`ratio ${s.ratio} < ${minRatio.toFixed(3)}`);
  }
  if (s.p99_ratio !== undefined && b.p99_ratio !== undefined) {
    const maxP99 = b.p99_ratio / tolerance;
    if (s.p99_ratio > maxP99) problems.push(`p99_ratio ${s.p99_ratio} > ${maxP99.toFixed(3)}`);
  }
  const maxCpu = b.cpu_ratio / tolerance;
  if (s.cpu_ratio! > maxCpu) problems.push(`cpu_ratio ${s.cpu_ratio} > ${maxCpu.toFixed(3)}`);
  if (errorShare(s) > MAX_ERROR_SHARE) problems.push(describeErrors(s));
  const failed = problems.length > 0;
  return {
    line: `  ${failed ? "FAIL" : "ok  "} ${s.name}: ${describe(s, b, tolerance)}${
      failed ? ": " + problems.join("; ") : ""
    }`,
    failed,
    remeasure: failed,
    skipped: false,
  };
}

/**
 * Fails a scenario when its throughput ratio drops below `baseline × tolerance`
 * (an open loop: its p99 ratio rises above `baseline ÷ tolerance`),
 * its CPU ratio rises above `baseline ÷ tolerance`, more than 1 % of its
 * requests fail over all its rounds, it has no baseline entry, or it did not
 * run (probe, node exit, a round that completed nothing, or a template that is
 * not loaded while the baseline has an entry for it). Only a scenario the
 * baseline has no entry for may be skipped, for a template that is not loaded;
 * and a gate that judged no scenario at all fails.
 */
export function compareWithBaseline(
  results: readonly ScenarioResult[],
  baseline: Baseline | undefined,
  tolerance: number,
): Verdict {
  checkTolerance(tolerance);
  if (!baseline) {
    return {
      lines: ["gate: no baseline; create one with `deno task bench:baseline`"],
      failed: ["(baseline)"],
      remeasure: [],
    };
  }
  const open = results.some((s) => s.p99_ratio !== undefined);
  const lines = [
    `gate: tolerance ${tolerance}: ratio must stay ≥ baseline × ${tolerance}, cpu_ratio ≤ baseline ÷ ${tolerance}` +
    (open ? `, an open loop's p99_ratio ≤ baseline ÷ ${tolerance}` : "") +
    '; "fails from": the smallest extra cost per request this run would have failed',
  ];
  const failed: string[] = [];
  const remeasure: string[] = [];
  let judged = 0;
  for (const s of results) {
    const verdict = judge(s, baseline, tolerance);
    lines.push(verdict.line);
    if (verdict.failed) failed.push(s.name);
    if (verdict.remeasure) remeasure.push(s.name);
    if (!verdict.skipped) judged++;
  }
  for (const name of Object.keys(baseline.scenarios)) {
    if (!results.some((s) => s.name === name)) lines.push(`  SKIP ${name}: not run`);
  }
  if (!judged) {
    lines.push("  FAIL no scenario was judged: a gate that compared nothing has checked nothing");
    failed.push("(nothing judged)");
  }
  lines.push(failed.length ? `gate: FAILED (${failed.join(", ")})` : "gate: passed");
  return { lines, failed, remeasure };
}

/**
 * A scenario measured a second time after failing: the second measurement is judged on its
 * own and used if it passes, whatever the first measured; otherwise the first stands. Both
 * are described.
 */
export function judgeRemeasured(
  first: ScenarioResult,
  again: ScenarioResult,
  baseline: Baseline,
  tolerance: number,
): { result: ScenarioResult; lines: string[] } {
  const second = judge(again, baseline, tolerance);
  return {
    result: second.failed ? first : again,
    lines: [
      `bench: ${first.name}, first measurement:${judge(first, baseline, tolerance).line.slice(1)}`,
      `bench: ${first.name}, measured again:   ${second.line.slice(1)}${second.failed ? "" : " (used)"}`,
    ],
  };
}
