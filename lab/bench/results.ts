/**
 * Scenario results: BEDS's phases and the raw ceilings' phases of one
 * scenario, each system's best round, and BEDS's ratios to the raw ceiling.
 * A ratio is the median over rounds of each round's own ratio, never the
 * best round of one system against the best of another: the systems of a
 * round run back to back, so a moment of load on the shared machine moves
 * both sides of that round's ratio, and the median drops the rounds where it
 * moved one side only. BEDS's errors are summed over every round, never taken
 * from the best one: a round that lost requests is exactly the one the best
 * round hides.
 *
 * An open loop offers every system the same fixed rate, so its throughput
 * ratios would read 1 however slow BEDS is: they are left out (null), and
 * BEDS's p99 is compared with the naive raw service's instead.
 *
 * @module
 */
import type { CountedResult } from "./counted.ts";
import type { PhaseResult } from "./phase.ts";
import type { RawDbMode } from "./raw_db.ts";
import type { Scenario } from "./scenario.ts";

/** The raw ceilings measured next to BEDS. */
export interface RawResults {
  /** (a) AMQP echo: same queues and message sizes, no logic. */
  echo: PhaseResult;
  /** (b) the same statements straight through the driver's pool. */
  db_pool: PhaseResult;
  /** (b) the same statements on dedicated pipelined connections. */
  db_pipelined: PhaseResult;
  /** (c) the naive raw service: echo + the DB call in one consumer. */
  echo_db: PhaseResult;
}

/** One scenario's outcome; the headline fields are BEDS's. */
export interface ScenarioResult {
  name: string;
  description: string;
  load: Scenario["load"];
  nodes: number;
  /** Why the scenario did not run. */
  skipped?: string;
  /** Reply size per routing key, bytes (the echo sends the same). */
  reply_bytes?: Record<string, number>;
  /** Rounds measured; each system reports its best round, the ratios are medians over rounds. */
  rounds?: number;
  /** BEDS and (c) in each round, measured back to back: what the ratios to (c) are medians of. */
  round_pairs?: RoundPair[];
  /** The faster direct-DB mode, used by the naive raw service. */
  db_mode?: RawDbMode;
  beds?: PhaseResult;
  raw?: RawResults;
  tps?: number;
  p50_ms?: number;
  p90_ms?: number;
  p99_ms?: number;
  max_ms?: number;
  /** BEDS's requests sent inside the measured windows and answered, all rounds together. */
  completed?: number;
  /** BEDS's failed requests over all rounds (`UNFINISHED`: never answered), what the gate checks. */
  errors?: number;
  /** {@link errors} per code. */
  error_codes?: Record<string, number>;
  cpu_us_per_tx?: number;
  rss_before_kib?: number;
  rss_after_kib?: number;
  /** BEDS throughput ÷ naive raw service (c) throughput; null for an open loop (fixed rate). */
  ratio?: number | null;
  /** BEDS node CPU per transaction ÷ naive raw service (c) CPU per transaction. */
  cpu_ratio?: number;
  /**
   * BEDS's own CPU per transaction: BEDS node − naive raw service (c), µs (negative when BEDS
   * measured cheaper), the median over rounds. Absolute, so it moves with the machine's speed
   * like every µs figure.
   */
  own_us_per_tx?: number;
  /** BEDS throughput ÷ echo (a) throughput; null for an open loop. */
  ratio_echo?: number | null;
  /** BEDS throughput ÷ best direct DB (b) throughput; null for an open loop. */
  ratio_db?: number | null;
  /** Open loop only: BEDS p99 ÷ naive raw service (c) p99 at the same rate (1 = as quick). */
  p99_ratio?: number;
  /** Open loop only: BEDS p99 − naive raw service (c) p99 at the same rate, ms. */
  p99_delta_ms?: number;
  /** The same BEDS node config with metrics off (`[http] enabled = false`), when the scenario asks. */
  beds_no_metrics?: PhaseResult;
  /** BEDS throughput ÷ BEDS-without-metrics throughput (1 = counting costs no throughput); null for an open loop. */
  metrics_ratio?: number | null;
  /** BEDS CPU per transaction ÷ BEDS-without-metrics CPU per transaction (1 = counting costs no CPU). */
  metrics_cpu_ratio?: number;
  /** A counted run (`count` in the scenario): RSS samples and the whole run's numbers. */
  counted?: CountedResult;
  /** RSS growth from the first to the last sample of a counted run (0.05 = 5 %). */
  rss_growth?: number;
}

/** One system's numbers in one round, as {@link ScenarioResult.round_pairs} keeps them. */
export type RoundNumbers = Pick<PhaseResult, "tps" | "cpu_us_per_tx" | "p99_ms">;

/** BEDS and the naive raw service (c) in the same round. */
export interface RoundPair {
  beds: RoundNumbers;
  echo_db: RoundNumbers;
}

/** How the ratios are computed, recorded in a run's conditions and so in a baseline made from it. */
export const RATIOS = "median of rounds";

const r3 = (n: number) => Math.round(n * 1000) / 1000;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** The middle value; of an even count, the mean of the middle two. NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The median over rounds of `of(a's round i, b's round i)`, skipping the rounds `of` finds no
 * value for (a zero denominator) and those only one side measured (the gate measures the raw
 * ceilings (a) and (b) in its first round only). 0 when no round has a value.
 */
export function pairedMedian(
  a: readonly PhaseResult[],
  b: readonly PhaseResult[],
  of: (a: PhaseResult, b: PhaseResult) => number | undefined,
): number {
  const values = a.slice(0, b.length).map((x, i) => of(x, b[i]!)).filter((v) => v !== undefined);
  return values.length ? median(values) : 0;
}

/** a ÷ b of one number of the two phases; undefined when b's is 0. */
const ratioOf = (key: keyof RoundNumbers) => (a: PhaseResult, b: PhaseResult) =>
  b[key] ? a[key] / b[key] : undefined;

/** The systems measured in each round. */
export type System = "echo" | "db_pool" | "db_pipelined" | "echo_db" | "beds";

/**
 * A system's best round (most throughput in a closed loop, lowest p99 in an
 * open one, whose rate is fixed), with the lowest CPU per transaction of any
 * round: on a shared machine noise only ever makes a number worse.
 */
function bestOf(runs: readonly PhaseResult[], open: boolean): PhaseResult {
  const best = runs.reduce((a, b) => (open ? b.p99_ms < a.p99_ms : b.tps > a.tps) ? b : a);
  const cpu = Math.min(...runs.map((r) => r.cpu_us_per_tx).filter((us) => us > 0));
  return Number.isFinite(cpu) ? { ...best, cpu_us_per_tx: cpu } : best;
}

const roundNumbers = (p: PhaseResult): RoundNumbers => ({
  tps: p.tps,
  cpu_us_per_tx: p.cpu_us_per_tx,
  p99_ms: p.p99_ms,
});

/** The rounds of each system, and of BEDS without metrics when measured. */
export type Runs = Record<System, PhaseResult[]> & { beds_no_metrics?: PhaseResult[] };

/** A counted run's result: BEDS alone, no raw systems and no ratios. */
export function countedSummary(
  base: Pick<ScenarioResult, "name" | "description" | "load" | "nodes">,
  counted: CountedResult,
): ScenarioResult {
  return {
    ...base,
    rounds: 1,
    counted,
    tps: counted.tps,
    p50_ms: counted.p50_ms,
    p99_ms: counted.p99_ms,
    max_ms: counted.max_ms,
    completed: counted.completed,
    errors: counted.errors,
    error_codes: counted.error_codes,
    cpu_us_per_tx: counted.cpu_us_per_tx,
    rss_before_kib: counted.rss_before_kib,
    rss_after_kib: counted.samples[counted.samples.length - 1]?.rss_kib ?? 0,
    rss_growth: counted.rss_growth,
  };
}

/** BEDS's own CPU per transaction; older results files have only the phases to compute it from. */
export function ownUsPerTx(s: ScenarioResult): number | undefined {
  if (s.own_us_per_tx !== undefined) return s.own_us_per_tx;
  return s.beds && s.raw ? r1(s.beds.cpu_us_per_tx - s.raw.echo_db.cpu_us_per_tx) : undefined;
}

/** Adds up the requests and errors of every round. */
export function allRounds(
  runs: readonly PhaseResult[],
): Pick<PhaseResult, "completed" | "errors" | "error_codes"> {
  const error_codes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, n] of Object.entries(run.error_codes)) error_codes[code] = (error_codes[code] ?? 0) + n;
  }
  return {
    completed: runs.reduce((sum, r) => sum + r.completed, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    error_codes,
  };
}

/** Picks each system's best round and computes BEDS's ratios, each the median of the rounds'. */
export function summarise(
  base: Pick<ScenarioResult, "name" | "description" | "load" | "nodes">,
  replyBytes: Record<string, number>,
  dbMode: RawDbMode,
  runs: Runs,
  open: boolean,
): ScenarioResult {
  const [beds, echo, dbPool, dbPipelined, naive] =
    (["beds", "echo", "db_pool", "db_pipelined", "echo_db"] as const)
      .map((system) => bestOf(runs[system], open)) as [
        PhaseResult,
        PhaseResult,
        PhaseResult,
        PhaseResult,
        PhaseResult,
      ];
  const db = dbMode === "pool" ? runs.db_pool : runs.db_pipelined;
  const off = runs.beds_no_metrics?.length ? bestOf(runs.beds_no_metrics, open) : undefined;
  const ratioTo = (other: readonly PhaseResult[], key: keyof RoundNumbers) =>
    r3(pairedMedian(runs.beds, other, ratioOf(key)));
  // At a fixed rate every system serves the rate: a throughput ratio would say nothing.
  const tpsRatio = (other: readonly PhaseResult[]) => open ? null : ratioTo(other, "tps");
  const metrics = off
    ? {
      beds_no_metrics: off,
      metrics_ratio: tpsRatio(runs.beds_no_metrics!),
      metrics_cpu_ratio: ratioTo(runs.beds_no_metrics!, "cpu_us_per_tx"),
    }
    : {};
  const difference = (key: keyof RoundNumbers) => (a: PhaseResult, b: PhaseResult) => a[key] - b[key];
  return {
    ...base,
    reply_bytes: replyBytes,
    db_mode: dbMode,
    rounds: runs.beds.length,
    round_pairs: runs.beds.slice(0, runs.echo_db.length).map((b, i) => ({
      beds: roundNumbers(b),
      echo_db: roundNumbers(runs.echo_db[i]!),
    })),
    beds,
    raw: { echo, db_pool: dbPool, db_pipelined: dbPipelined, echo_db: naive },
    tps: beds.tps,
    p50_ms: beds.p50_ms,
    p90_ms: beds.p90_ms,
    p99_ms: beds.p99_ms,
    max_ms: beds.max_ms,
    ...allRounds(runs.beds),
    cpu_us_per_tx: beds.cpu_us_per_tx,
    rss_before_kib: runs.beds[0]!.rss_before_kib,
    rss_after_kib: runs.beds[runs.beds.length - 1]!.rss_after_kib,
    ratio: tpsRatio(runs.echo_db),
    cpu_ratio: ratioTo(runs.echo_db, "cpu_us_per_tx"),
    own_us_per_tx: r1(pairedMedian(runs.beds, runs.echo_db, difference("cpu_us_per_tx"))),
    ratio_echo: tpsRatio(runs.echo),
    ratio_db: tpsRatio(db),
    ...(open
      ? {
        p99_ratio: ratioTo(runs.echo_db, "p99_ms"),
        p99_delta_ms: r3(pairedMedian(runs.beds, runs.echo_db, difference("p99_ms"))),
      }
      : {}),
    ...metrics,
  };
}
