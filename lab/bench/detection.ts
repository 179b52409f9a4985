/**
 * What a gate run would have caught: the smallest extra cost per request, µs, that would have
 * failed it, by each limit (a fixed ratio limit lets more µs through on a slower or more loaded
 * machine), and its wording in the gate's line for the scenario.
 *
 * @module
 */
import type { BaselineEntry } from "./gate.ts";
import { median, type RoundPair, type ScenarioResult } from "./results.ts";

/** The rounds of BEDS and (c) of a result; older results files have only each one's best round. */
function pairsOf(s: ScenarioResult): RoundPair[] {
  if (s.round_pairs?.length) return s.round_pairs;
  return s.beds && s.raw ? [{ beds: s.beds, echo_db: s.raw.echo_db }] : [];
}

/**
 * The smallest extra cost per request, µs, that this run would have failed, by each limit. CPU:
 * x more of BEDS's CPU per request fails a round once (BEDS + x) ÷ (c) passes the limit, i.e.
 * x > limit × (c) − BEDS, so (c)'s CPU per request sets it: on a loaded machine (c) costs more
 * µs and the same limit lets more through. Throughput: 1 ÷ tps is the time per request of what
 * limits BEDS's throughput (at K=1 the latency); x more of it lowers tps to 1 ÷ (1/tps + x),
 * which fails once 1/tps + x > 1 ÷ (limit × (c)'s tps), so this one holds for a cost on that
 * path (a cost elsewhere may take more). The median ratio fails when its median round does,
 * so the run's figure is the median of the rounds'.
 */
export function detectionUsPerTx(
  s: ScenarioResult,
  b: BaselineEntry,
  tolerance: number,
): { cpu?: number; tps?: number } {
  const pairs = pairsOf(s);
  const rounded = (values: number[]) => values.length ? Math.round(median(values) * 10) / 10 : undefined;
  const maxCpu = b.cpu_ratio / tolerance;
  const cpu = rounded(
    pairs.filter((p) => p.echo_db.cpu_us_per_tx > 0)
      .map((p) => maxCpu * p.echo_db.cpu_us_per_tx - p.beds.cpu_us_per_tx),
  );
  if (typeof s.ratio !== "number" || typeof b.ratio !== "number") return { cpu };
  const minRatio = b.ratio * tolerance;
  const tps = rounded(
    pairs.filter((p) => p.echo_db.tps > 0 && p.beds.tps > 0)
      .map((p) => 1e6 / (minRatio * p.echo_db.tps) - 1e6 / p.beds.tps),
  );
  return { cpu, tps };
}

/** A µs figure with its sign. */
const signedUs = (us: number) => `${us >= 0 ? "+" : ""}${us}`;

/** What {@link detectionUsPerTx} found, for the scenario's line. */
export function describeDetection(s: ScenarioResult, b: BaselineEntry, tolerance: number): string {
  const { cpu, tps } = detectionUsPerTx(s, b, tolerance);
  const parts = [
    ...(cpu === undefined ? [] : [`${signedUs(cpu)} µs/tx CPU (cpu_ratio)`]),
    ...(tps === undefined ? [] : [`${signedUs(tps)} µs/tx on its busiest path (ratio)`]),
  ];
  return parts.length ? `; this run fails from ${parts.join(", ")}` : "";
}
