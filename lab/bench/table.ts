/**
 * Plain-text tables for the terminal: one per scenario, BEDS first and the
 * raw ceilings under it, then BEDS's ratios. An open loop (fixed rate) has
 * no throughput ratio ("n/a"); its latency is compared with (c) instead.
 *
 * @module
 */
import type { PhaseResult } from "./phase.ts";
import { ownUsPerTx, type ScenarioResult } from "./results.ts";

/** A load spec in a few words. */
export function describeLoad(load: ScenarioResult["load"]): string {
  return load.mode === "closed" ? `closed loop, K=${load.concurrency}` : `open loop, ${load.rate}/s`;
}

const mib = (kib: number) => (kib / 1024).toFixed(0);

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ");
}

/** The table of one scenario, as lines. */
export function scenarioTable(s: ScenarioResult): string[] {
  const head = `${s.name}: ${s.description} (${describeLoad(s.load)}${
    s.nodes > 1 ? `, ${s.nodes} nodes` : ""
  })`;
  if (s.skipped) return [head, `  skipped: ${s.skipped}`];
  if (s.counted) return [head, ...countedLines(s)];
  const widths = [16, 9, 8, 8, 8, 8, 7, 10, 12];
  const lines = [
    head,
    "  " +
    row(["system", "tps", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "cpu µs/tx", "rss MiB"], widths),
  ];
  const line = (label: string, p: PhaseResult, rss: boolean, rssKiB = [p.rss_before_kib, p.rss_after_kib]) =>
    "  " + row([
      label,
      p.tps.toFixed(0),
      p.p50_ms.toFixed(2),
      p.p90_ms.toFixed(2),
      p.p99_ms.toFixed(2),
      p.max_ms.toFixed(1),
      String(p.errors),
      p.cpu_us_per_tx.toFixed(0),
      rss ? `${mib(rssKiB[0]!)}→${mib(rssKiB[1]!)}` : "",
    ], widths);
  const raw = s.raw!;
  // BEDS's memory over the whole scenario (first round's start to last round's end); the raw rows show their best round.
  lines.push(line("BEDS", s.beds!, true, [s.rss_before_kib!, s.rss_after_kib!]));
  if (s.beds_no_metrics) lines.push(line("BEDS no metrics", s.beds_no_metrics, true));
  lines.push(line("raw echo+db (c)", raw.echo_db, true));
  lines.push(line("raw echo (a)", raw.echo, true));
  lines.push(line(`raw db pool (b)${s.db_mode === "pool" ? "*" : ""}`, raw.db_pool, false));
  lines.push(line(`raw db pipe (b)${s.db_mode === "pipelined" ? "*" : ""}`, raw.db_pipelined, false));
  lines.push(`  ${ratioLine(s)}`);
  if (s.beds_no_metrics) {
    lines.push(
      `  metrics_ratio ${s.metrics_ratio ?? "n/a"} (BEDS ÷ BEDS without metrics, tps)   ` +
        `metrics_cpu_ratio ${s.metrics_cpu_ratio} (BEDS ÷ BEDS without metrics, CPU/tx)`,
    );
  }
  // Every round's errors, not the best round's: the row above shows one round only.
  const codes = Object.entries(s.error_codes ?? s.beds!.error_codes);
  if (codes.length) {
    lines.push(
      `  BEDS errors over ${s.rounds ?? 1} round(s): ${codes.map(([c, n]) => `${c} ${n}`).join(", ")}`,
    );
  }
  return lines;
}

const signed = (n: number, digits: number) => `${n >= 0 ? "+" : ""}${n.toFixed(digits)}`;

/**
 * BEDS against the naive raw service (c): throughput ratio, or at a fixed rate the p99 ratio,
 * then CPU, BEDS's own CPU on top of (c)'s, and throughput against (a) and (b).
 */
function ratioLine(s: ScenarioResult): string {
  const speed = s.ratio === null
    ? `ratio n/a (fixed rate)   p99_ratio ${s.p99_ratio} (BEDS ÷ echo+db p99, ${
      signed(s.p99_delta_ms ?? 0, 2)
    } ms)`
    : `ratio ${s.ratio} (BEDS ÷ echo+db tps)`;
  const own = s.own_us_per_tx === undefined
    ? ""
    : `   own ${signed(s.own_us_per_tx, 1)} µs/tx (BEDS − echo+db)`;
  const others = s.ratio === null ? "" : `   vs echo ${s.ratio_echo}   vs db ${s.ratio_db}`;
  return `${speed}   cpu_ratio ${s.cpu_ratio} (BEDS ÷ echo+db CPU/tx)${own}${others}`;
}

/** A counted run: its totals and the RSS samples. */
function countedLines(s: ScenarioResult): string[] {
  const c = s.counted!;
  const samples = c.samples.map((x) => `${x.requests / 1000}k ${mib(x.rss_kib)}`).join(", ");
  return [
    `  ${c.completed} requests at ${c.tps.toFixed(0)}/s, p50 ${c.p50_ms} ms, p99 ${c.p99_ms} ms, ` +
    `errors ${c.errors}, node ${c.cpu_us_per_tx} µs/tx`,
    `  RSS MiB before ${mib(c.rss_before_kib)}; after ${samples}`,
    `  rss_growth ${percent(c.rss_growth)} (from the first sample to the last)`,
  ];
}

const percent = (share: number) => `${share >= 0 ? "+" : ""}${(share * 100).toFixed(1)} %`;

/** A number, "-" when not measured (a counted run), "—" when it does not apply (an open loop's ratio). */
const fixed = (n: number | null | undefined, digits: number) =>
  n === undefined ? "-" : n === null ? "—" : n.toFixed(digits);

/** One line per scenario with the headline numbers. */
export function summaryTable(results: readonly ScenarioResult[]): string[] {
  const widths = [16, 9, 8, 8, 7, 10, 10, 7, 10, 9, 11];
  const lines = [
    row(
      [
        "scenario",
        "tps",
        "p50 ms",
        "p99 ms",
        "errors",
        "cpu µs/tx",
        "own µs/tx",
        "ratio",
        "p99_ratio",
        "cpu_ratio",
        "metrics_cpu",
      ],
      widths,
    ),
  ];
  for (const s of results) {
    if (s.skipped) {
      lines.push(row([s.name, "skipped"], [16, 9]));
      continue;
    }
    const own = ownUsPerTx(s);
    lines.push(row([
      s.name,
      s.tps!.toFixed(0),
      s.p50_ms!.toFixed(2),
      s.p99_ms!.toFixed(2),
      String(s.errors),
      s.cpu_us_per_tx!.toFixed(0),
      own === undefined ? "-" : signed(own, 1),
      fixed(s.ratio, 3),
      // Only an open loop compares latency; a closed loop's is set by its throughput.
      s.p99_ratio === undefined ? (s.counted ? "-" : "—") : s.p99_ratio.toFixed(3),
      fixed(s.cpu_ratio, 3),
      s.counted ? `rss ${percent(s.rss_growth!)}` : fixed(s.metrics_cpu_ratio, 3),
    ], widths));
  }
  return lines;
}
