/**
 * A/B of two BEDS source trees on one scenario: the node of each tree
 * serves the same load in turn, rounds interleaved (A B, then B A, …), on
 * the same exchange, schema and load generator. Compares throughput and the
 * node's CPU per transaction, which on a shared machine moves less between
 * interleaved phases than between separate bench runs.
 *
 * A side is a directory holding `src/main.ts` and `deno.json`, or `rev:REV`
 * for a git revision of this repository (its `src/`, `utilities/` (a node
 * imports modules it shares with the observer), `config/beds.toml`,
 * `deno.json` and `deno.lock`, extracted to a temp dir). Both nodes read
 * side A's `config/beds.toml` when it has one (a newer config may hold keys
 * an older node refuses), else the working tree's; templates and the lab
 * schema always come from the working tree. The scenario's `setup`
 * statements run before every phase, as the bench runs them before each
 * scenario.
 *
 * Usage: `deno run -A lab/bench/ab_node.ts --a rev:HEAD~1 --b . [--scenario read_key]
 * [--rounds 3] [--warmup 1000] [--duration 4000] [--logstore mariadb|off] [--b-set section.key=value …]`.
 * `--b-set` changes a setting for side B only (the same tree on both sides compares two
 * settings): B's node then runs on a variant config with its own exchange, so the load generator
 * holds one client per side.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BedsClient } from "../../src/client/mod.ts";
import { createBenchEnv } from "./env.ts";
import { startNode } from "./node_process.ts";
import { outcomeOf, type PhaseResult, runPhase } from "./phase.ts";
import { loadScenarios, requestMaker, runSetup } from "./scenario.ts";
import { connectLabSchema } from "../db.ts";

/** Extracts `src/`, `utilities/`, `config/beds.toml`, `deno.json` and `deno.lock` of a git revision into a temp dir. */
async function checkout(root: string, rev: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_ab_" });
  const archive = new Deno.Command("git", {
    args: ["archive", "--format=tar", rev, "src", "utilities", "config/beds.toml", "deno.json", "deno.lock"],
    cwd: root,
    stdout: "piped",
  }).spawn();
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  await archive.stdout.pipeTo(tar.stdin);
  if (!(await archive.status).success || !(await tar.status).success) {
    throw new Error(`git archive ${rev} failed`);
  }
  return dir;
}

/** `section.key=value` pairs as config sections; a value is read as JSON when it parses, else as text. */
export function parseSettings(pairs: string[]): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const pair of pairs) {
    const match = /^([a-z_]+)\.([a-z_]+)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--b-set takes section.key=value, not "${pair}"`);
    const [, section, key, text] = match as unknown as [string, string, string, string];
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // plain text
    }
    (sections[section] ??= {})[key] = value;
  }
  return sections;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      a: { type: "string", default: "rev:HEAD" },
      b: { type: "string", default: "." },
      scenario: { type: "string", default: "read_key" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1000" },
      duration: { type: "string", default: "4000" },
      logstore: { type: "string", default: "mariadb" },
      "b-set": { type: "string", multiple: true, default: [] },
    },
  });
  const root = Deno.cwd();
  const scenario = (await loadScenarios(`${root}/lab/bench/scenarios`)).find((s) =>
    s.name === values.scenario
  );
  if (!scenario) throw new Error(`no scenario "${values.scenario}"`);
  const temps: string[] = [];
  const resolveSide = async (side: string) => {
    if (!side.startsWith("rev:")) return side === "." ? root : side;
    const dir = await checkout(root, side.slice(4));
    temps.push(dir);
    return dir;
  };
  const sides = { A: await resolveSide(values.a), B: await resolveSide(values.b) };
  const configA = `${sides.A}/config/beds.toml`;
  const env = await createBenchEnv({
    root,
    logstore: values.logstore === "off" ? "off" : "mariadb",
    baseConfig: await Deno.stat(configA).then(() => configA, () => undefined),
  });
  const sections = parseSettings(values["b-set"]);
  const worldB = Object.keys(sections).length ? await env.variant("b", { sections }) : undefined;
  const clients = {
    A: await BedsClient.connect({ amqp: env.config.amqp, name: "bench-ab" }),
    B: worldB ? await BedsClient.connect({ amqp: worldB.config.amqp, name: "bench-ab-b" }) : undefined,
  };
  // The scenario's setup statements (e.g. `write_ord` restocking its products) run before every
  // phase, so each side starts from the same data however much the one before it wrote.
  const admin = await connectLabSchema({ schema: env.schema });
  const next = requestMaker(scenario);
  const results: Record<"A" | "B", PhaseResult[]> = { A: [], B: [] };
  try {
    console.error(
      `A = ${values.a}, B = ${values.b}${
        worldB ? ` with ${values["b-set"].join(" ")}` : ""
      }; ${scenario.name}, ${values.rounds} rounds`,
    );
    for (let round = 1; round <= Number(values.rounds); round++) {
      const order = round % 2 ? (["A", "B"] as const) : (["B", "A"] as const);
      for (const side of order) {
        await runSetup(scenario, admin);
        const node = await startNode({
          env,
          instance: `ab-${env.id}-${side}${round}`,
          srcRoot: sides[side],
          ...(side === "B" && worldB ? { world: worldB } : {}),
          expectConsumers: (_queue, perNode) => perNode,
        });
        try {
          const r = await runPhase({
            spec: scenario.load,
            send: () => (clients[side] ?? clients.A).request(next().body).then(outcomeOf),
            warmupMs: Number(values.warmup),
            durationMs: Number(values.duration),
            pids: [node.pid],
          });
          results[side].push(r);
          console.error(
            `round ${round} ${side}: ${r.tps} tps, node ${r.cpu_us_per_tx} µs/tx, ` +
              `mariadb ${r.mariadb_cpu_us_per_tx} µs/tx, rabbitmq ${r.rabbitmq_cpu_us_per_tx} µs/tx, ` +
              `p50 ${r.p50_ms} ms, ` +
              `p99 ${r.p99_ms} ms, errors ${r.errors}, rss ${r.rss_after_kib} KiB`,
          );
        } finally {
          await node.stop();
        }
      }
    }
    const tps = (side: "A" | "B") => median(results[side].map((r) => r.tps));
    const cpu = (side: "A" | "B") => median(results[side].map((r) => r.cpu_us_per_tx));
    const pairs = results.A.map((a, i) => results.B[i]!.cpu_us_per_tx / a.cpu_us_per_tx);
    const db = (side: "A" | "B") => median(results[side].map((r) => r.mariadb_cpu_us_per_tx));
    const mq = (side: "A" | "B") => median(results[side].map((r) => r.rabbitmq_cpu_us_per_tx));
    console.log(
      `median tps A ${tps("A")} B ${tps("B")} (B/A ${(tps("B") / tps("A")).toFixed(3)}); ` +
        `median µs/tx A ${cpu("A")} B ${cpu("B")} (B/A ${(cpu("B") / cpu("A")).toFixed(3)}); ` +
        `per-round CPU B/A ${pairs.map((p) => p.toFixed(3)).join(" ")}; ` +
        `median MariaDB µs/tx A ${db("A")} B ${db("B")} (B/A ${(db("B") / db("A")).toFixed(3)}); ` +
        `median RabbitMQ µs/tx A ${mq("A")} B ${mq("B")} (B/A ${(mq("B") / mq("A")).toFixed(3)})`,
    );
  } finally {
    await admin.end().catch(() => {});
    await clients.A.close();
    await clients.B?.close();
    await env.cleanup();
    for (const dir of temps) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
