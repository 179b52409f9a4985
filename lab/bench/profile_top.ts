/**
 * Summarises V8 CPU profiles (`.cpuprofile`, written by `deno run --cpu-prof`):
 * the functions with the most self time, and self time per source (a BEDS
 * folder, an npm package, Deno's runtime, GC, idle).
 *
 * Usage: `deno run -A lab/bench/profile_top.ts FILE_OR_DIR [--top 30]`.
 *
 * @module
 */
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or source, in microseconds. */
export interface SelfTime {
  name: string;
  us: number;
}

/** Groups a script URL into the part of the system it belongs to. */
export function sourceOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const npm = /\/npm\/registry\.npmjs\.org\/([^/]+(?:\/[^/]+)?)\/[^/]+\//.exec(url) ??
    /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]!.startsWith("@") ? npm[1] : npm[1]!.split("/")[0]}`;
  const src = /\/src\/(.+)$/.exec(url);
  if (src) return `src/${src[1]!.includes("/") ? src[1]!.split("/")[0] + "/" : src[1]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return url.split("/")[0]!.replace(/:$/, "");
  return url;
}

/** Self time per function and per source of one profile. */
export function summarise(
  profile: CpuProfile,
): { functions: SelfTime[]; sources: SelfTime[]; totalUs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const src = new Map<string, number>();
  let totalUs = 0;
  for (const [i, id] of profile.samples.entries()) {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(src|lab|registry\.npmjs\.org)\//, "$1/");
    const key = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const source = sourceOf(url, functionName);
    src.set(source, (src.get(source) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
  return { functions: sorted(fn), sources: sorted(src), totalUs };
}

async function files(path: string): Promise<string[]> {
  if ((await Deno.stat(path)).isFile) return [path];
  const out: string[] = [];
  for await (const e of Deno.readDir(path)) if (e.name.endsWith(".cpuprofile")) out.push(`${path}/${e.name}`);
  return out.sort();
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string", default: "30" } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  for (const file of await files(positionals[0] ?? "lab/results")) {
    const { functions, sources, totalUs } = summarise(JSON.parse(await Deno.readTextFile(file)));
    const pct = (us: number) => `${(100 * us / totalUs).toFixed(1).padStart(5)}%`;
    const busy = totalUs - (sources.find((s) => s.name === "(idle)")?.us ?? 0);
    console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle\n`);
    console.log("self time by source");
    for (const s of sources.slice(0, 20)) {
      console.log(`  ${pct(s.us)}  ${(s.us / 1000).toFixed(0).padStart(7)} ms  ${s.name}`);
    }
    console.log(`\ntop ${top} functions by self time`);
    for (const f of functions.slice(0, top)) {
      console.log(`  ${pct(f.us)}  ${(f.us / 1000).toFixed(0).padStart(7)} ms  ${f.name}`);
    }
    console.log("");
  }
}
