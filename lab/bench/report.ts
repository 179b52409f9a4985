/**
 * The HTML report: one self-contained file that opens with no network. uPlot
 * (JS and CSS) is read from the installed npm package at build time through
 * text imports and inlined, next to the results JSON.
 *
 * Plots: BEDS vs raw throughput per scenario, BEDS's ratios, BEDS with and
 * without metrics, throughput over time and the latency distribution of each
 * scenario, and the node's RSS over a counted run. An open loop (fixed rate)
 * has no throughput ratios (null, a gap in the plot); its p99 ratio is plotted.
 *
 * @module
 */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import type { GateFile } from "./gate.ts";
import { CURVE_PERCENTILES } from "./phase.ts";
import { describeLoad, scenarioTable, summaryTable } from "./table.ts";

/** Makes text safe inside a `<script>` element. */
function scriptSafe(text: string): string {
  return text.replaceAll("</", "<\\/").replaceAll("<!--", "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Runs in the page: draws every chart from `RESULTS`. */
const PAGE_SCRIPT = `
const SYSTEMS = [
  ["BEDS", (s) => s.beds, "#d62728"],
  ["raw echo+db (c)", (s) => s.raw.echo_db, "#1f77b4"],
  ["raw echo (a)", (s) => s.raw.echo, "#2ca02c"],
  ["raw db best (b)", (s) => s.db_mode === "pool" ? s.raw.db_pool : s.raw.db_pipelined, "#9467bd"],
];
const ran = RESULTS.scenarios.filter((s) => !s.skipped && !s.counted);
const NO_METRICS = ["BEDS no metrics", (s) => s.beds_no_metrics, "#ff7f0e"];
const systemsOf = (s) => s.beds_no_metrics ? [SYSTEMS[0], NO_METRICS, ...SYSTEMS.slice(1)] : SYSTEMS;
const W = Math.min(960, document.body.clientWidth - 40);
function el(parent, tag, text) {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  parent.appendChild(e);
  return e;
}
function bars(target, title, unit, values, colors, names, among = ran) {
  // Grouped bars: each scenario has one slot per series; a series has values only in its own slots.
  if (!among.length) return;
  const ran = among;
  const k = names.length + 1;
  const xs = [];
  for (let i = 0; i < ran.length * k; i++) xs.push(i);
  const data = [xs, ...names.map((_, j) => xs.map((x) => x % k === j ? values[Math.floor(x / k)][j] : null))];
  new uPlot({
    title, width: W, height: 320,
    scales: { x: { time: false, range: [-1, ran.length * k] }, y: { range: (u, min, max) => [0, max * 1.1] } },
    axes: [
      { values: (u, ticks) => ticks.map((t) => t % k === Math.floor((k - 1) / 2) ? ran[Math.floor(t / k)]?.name ?? "" : ""), splits: () => xs },
      { label: unit },
    ],
    series: [{}, ...names.map((name, j) => ({ label: name, stroke: colors[j], fill: colors[j] + "aa", paths: uPlot.paths.bars({ size: [0.9, 40] }), points: { show: false } }))],
  }, data, target);
}
const overview = document.getElementById("overview");
bars(overview, "Throughput: BEDS vs the raw ceiling (transactions/s; an open loop's is its fixed rate)", "tps",
  ran.map((s) => SYSTEMS.map(([, get]) => get(s).tps)), SYSTEMS.map((x) => x[2]), SYSTEMS.map((x) => x[0]));
bars(overview, "CPU per transaction of the serving process (µs)", "µs/tx",
  ran.map((s) => SYSTEMS.map(([, get]) => get(s).cpu_us_per_tx)), SYSTEMS.map((x) => x[2]), SYSTEMS.map((x) => x[0]));
// Null where a ratio does not apply: an open loop's throughput ratios, a closed loop's p99 ratio.
bars(overview, "BEDS ratios (1 = as fast / as cheap / as quick as the naive raw service)", "ratio",
  ran.map((s) => [s.ratio, s.cpu_ratio, s.ratio_echo, s.ratio_db, s.p99_ratio].map((v) => v ?? null)),
  ["#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"],
  ["ratio (tps ÷ echo+db)", "cpu_ratio (CPU/tx ÷ echo+db)", "tps ÷ echo", "tps ÷ db", "p99_ratio (open loop, p99 ÷ echo+db)"]);
const metered = ran.filter((s) => s.beds_no_metrics);
if (metered.length) {
  el(overview, "h3", "Cost of metrics: the same node config with [http] enabled = false");
  const pair = [["BEDS", (s) => s.beds, "#d62728"], NO_METRICS];
  bars(overview, "CPU per transaction with and without metrics (µs)", "µs/tx",
    metered.map((s) => pair.map(([, get]) => get(s).cpu_us_per_tx)), pair.map((x) => x[2]), pair.map((x) => x[0]), metered);
  bars(overview, "Throughput with and without metrics (transactions/s)", "tps",
    metered.map((s) => pair.map(([, get]) => get(s).tps)), pair.map((x) => x[2]), pair.map((x) => x[0]), metered);
}
for (const s of RESULTS.scenarios.filter((s) => s.counted)) {
  const box = el(document.getElementById("scenarios"), "div");
  el(box, "h3", s.name + ": " + s.description);
  const xs = s.counted.samples.map((x) => x.requests);
  new uPlot({
    title: "Node RSS by requests served (MiB); growth first → last sample " + (s.rss_growth * 100).toFixed(1) + " %",
    width: W, height: 260, scales: { x: { time: false }, y: { range: (u, min, max) => [0, max * 1.1] } },
    axes: [{ label: "requests" }, { label: "MiB" }],
    series: [{}, { label: "RSS", stroke: "#d62728", width: 2 }],
  }, [xs, s.counted.samples.map((x) => x.rss_kib / 1024)], box);
}
const nines = (p) => p >= 100 ? 5 : -Math.log10(1 - p / 100);
const xNines = CURVE.map(nines);
const LABELLED = [0, 50, 90, 99, 99.9, 99.99, 100];
for (const s of ran) {
  const box = el(document.getElementById("scenarios"), "div");
  el(box, "h3", s.name + ": " + s.description);
  const t = s.beds.timeline.map((_, i) => (i + 1) * s.beds.bucket_ms / 1000);
  new uPlot({
    title: "Throughput over time (transactions/s)", width: W, height: 260,
    scales: { x: { time: false } }, axes: [{ label: "s" }, { label: "tps" }],
    series: [{}, ...systemsOf(s).map(([name, get, color]) => ({ label: name, stroke: color, width: 2 }))],
  }, [t, ...systemsOf(s).map(([, get]) => t.map((_, i) => get(s).timeline[i] ?? null))], box);
  new uPlot({
    title: "Latency distribution (ms, by percentile)", width: W, height: 260,
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [
      { label: "percentile", splits: () => xNines, values: (u, ticks) => ticks.map((v) => LABELLED.includes(CURVE[xNines.indexOf(v)]) ? CURVE[xNines.indexOf(v)] : "") },
      { label: "ms" },
    ],
    series: [{}, ...systemsOf(s).map(([name, get, color]) => ({ label: name, stroke: color, width: 2 }))],
  }, [xNines, ...systemsOf(s).map(([, get]) => get(s).curve_ms.map((v) => Math.max(v, 0.001)))], box);
}
`;

/** Renders the report page for one results file. */
export function renderReport(file: GateFile): string {
  const tables = file.scenarios.map((s) => escapeHtml(scenarioTable(s).join("\n"))).join("\n\n");
  const loads = file.scenarios.map((s) => `${s.name}: ${describeLoad(s.load)}`).join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>BEDS bench ${escapeHtml(file.started)}</title>
<style>${uplotCss}
body { font: 14px system-ui, sans-serif; margin: 20px; color: #222; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
h3 { margin-top: 32px; }
</style>
<script>${scriptSafe(uplotJs)}</script>
</head>
<body>
<h1>BEDS bench (${escapeHtml(file.mode)} run)</h1>
<p>Started ${escapeHtml(file.started)}, finished ${
    escapeHtml(file.finished)
  }; warm-up ${file.warmup_ms} ms, measured
window ${file.duration_ms} ms per phase. Conditions: <code>${
    escapeHtml(JSON.stringify(file.conditions))
  }</code>.</p>
<p>ratio = BEDS throughput ÷ the naive raw service (AMQP echo + the same DB call, plain amqplib and mariadb, same
queues, instances and prefetch) measured in the same run; cpu_ratio = BEDS node CPU per transaction ÷ the naive raw
service's; own µs/tx = BEDS node CPU per transaction − the naive raw service's. An open loop offers every system the
same fixed rate, so its throughput ratio is n/a (—) and p99_ratio = BEDS p99 ÷ the naive raw service's p99 compares
them instead. Loads: ${escapeHtml(loads)}.</p>
<pre>${escapeHtml(summaryTable(file.scenarios).join("\n"))}</pre>
<div id="overview"></div>
<div id="scenarios"></div>
<h2>Tables</h2>
<pre>${tables}</pre>
<script>const RESULTS = ${scriptSafe(JSON.stringify(file))};
const CURVE = ${JSON.stringify(CURVE_PERCENTILES)};
${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
