/**
 * The WAN latency scenario (run by `lab/wan.sh`, which builds the network
 * namespace, the veth pair and the delay). A BEDS node, a raw echo and a raw
 * echo+DB service run on the host next to RabbitMQ and MariaDB; the load
 * generator runs once on the host and once inside the namespace, where every
 * packet to RabbitMQ crosses the emulated WAN. One request in flight, so the
 * numbers are latencies: BEDS's overhead over the echo should be the same on
 * both paths, i.e. BEDS adds only its own processing to the network round
 * trip, also for a fan-out of 24 database calls.
 *
 * Usage: `deno run -A lab/bench/wan.ts --netns NS --wan HOST:PORT --local HOST:PORT [--delay-note TEXT]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BedsClient } from "../../src/client/mod.ts";
import { createBenchEnv } from "./env.ts";
import { startNode } from "./node_process.ts";
import { rawQueuesLike, startRawService } from "./raw_process.ts";
import { loadScenarios, requestKinds } from "./scenario.ts";
import type { WanClientConfig, WanPhase, WanResult } from "./wan_client.ts";

async function runClient(root: string, config: WanClientConfig, netns?: string): Promise<WanResult[]> {
  const file = await Deno.makeTempFile({ prefix: "beds_wan_", suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(config));
  const deno = [Deno.execPath(), "run", "-A", `${root}/lab/bench/wan_client.ts`, file];
  const [cmd, ...args] = netns ? ["ip", "netns", "exec", netns, ...deno] : deno;
  const out = await new Deno.Command(cmd!, { args, cwd: root, stdout: "piped", stderr: "piped" }).output();
  await Deno.remove(file).catch(() => {});
  if (!out.success) throw new Error(`WAN client failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => JSON.parse(line));
}

function hostPort(text: string) {
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      netns: { type: "string" },
      wan: { type: "string" },
      local: { type: "string" },
      "delay-note": { type: "string", default: "" },
      duration: { type: "string", default: "5000" },
    },
  });
  const root = Deno.cwd();
  const scenarios = await loadScenarios(`${root}/lab/bench/scenarios`);
  const picked = ["read_key_k1", "fanout_dsh"].map((name) => scenarios.find((s) => s.name === name)!);
  const env = await createBenchEnv({ root });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const node = await startNode({ env, instance: `wan-${env.id}`, expectConsumers: (_q, n) => n });
    stops.push(() => node.stop());
    const client = await BedsClient.connect({ amqp: env.config.amqp });
    const replyBytes: Record<string, number> = {};
    const statements: Record<string, unknown> = {};
    const bodies = new Map<string, WanPhase["body"]>();
    for (const scenario of picked) {
      const kind = requestKinds(scenario)[0]!;
      const body = kind.make().body;
      const reply = await client.request(body);
      if (!reply.ok) {
        throw new Error(`probe of ${kind.key} failed: ${reply.error.code} ${reply.error.message}`);
      }
      replyBytes[kind.key] = new TextEncoder().encode(JSON.stringify(reply)).length;
      statements[kind.key] = scenario.requests[0]!.raw;
      bodies.set(scenario.name, body);
    }
    await client.close();
    const exchanges = {
      echo: `${env.config.amqp.exchange}.raw.echo`,
      naive: `${env.config.amqp.exchange}.raw.echodb`,
    };
    for (const x of Object.values(exchanges)) env.rawExchanges.add(x);
    const echo = await startRawService(env, {
      mode: "echo",
      amqpUrl: env.amqpUrl,
      exchange: exchanges.echo,
      queues: rawQueuesLike(env, "echo"),
      replyBytes,
    });
    stops.push(echo.stop);
    const naive = await startRawService(env, {
      mode: "echo_db",
      amqpUrl: env.amqpUrl,
      exchange: exchanges.naive,
      queues: rawQueuesLike(env, "echodb"),
      statements: statements as never,
      db: { mode: "pipelined", connections: 2, database: env.schema },
    });
    stops.push(naive.stop);
    const read = bodies.get("read_key_k1")!;
    const fan = bodies.get("fanout_dsh")!;
    const phases: WanPhase[] = [
      { label: "echo (read size)", exchange: exchanges.echo, body: read, concurrency: 1 },
      { label: "BEDS read by key", exchange: env.config.amqp.exchange, body: read, concurrency: 1 },
      { label: "echo (fan-out size)", exchange: exchanges.echo, body: fan, concurrency: 1 },
      { label: "raw echo+24 DB calls", exchange: exchanges.naive, body: fan, concurrency: 1 },
      { label: "BEDS fan-out (24)", exchange: env.config.amqp.exchange, body: fan, concurrency: 1 },
    ];
    const durationMs = Number(values.duration);
    const base = { warmupMs: 1000, durationMs, phases };
    const at = (text: string) => ({ ...env.config.amqp, ...hostPort(text) });
    console.error("WAN bench: local path (host, through the proxy without delay)");
    const local = await runClient(root, { ...base, amqp: at(values.local!) });
    console.error(`WAN bench: WAN path (namespace ${values.netns}, ${values["delay-note"]})`);
    const wan = await runClient(root, { ...base, amqp: at(values.wan!) }, values.netns);
    console.log(
      `\n${"".padEnd(22)}  ${"local p50".padStart(10)}  ${"p99".padStart(8)}  ${"WAN p50".padStart(10)}  ${
        "p99".padStart(8)
      }`,
    );
    for (const [i, l] of local.entries()) {
      const w = wan[i]!;
      console.log(
        `${l.label.padEnd(22)}  ${l.p50_ms.toFixed(2).padStart(10)}  ${l.p99_ms.toFixed(2).padStart(8)}  ${
          w.p50_ms.toFixed(2).padStart(10)
        }  ${w.p99_ms.toFixed(2).padStart(8)}`,
      );
    }
    const p = (rs: WanResult[], label: string) => rs.find((r) => r.label === label)!.p50_ms;
    const overhead = (rs: WanResult[], bedsLabel: string, echoLabel: string) =>
      (p(rs, bedsLabel) - p(rs, echoLabel)).toFixed(2);
    console.log(
      `\nBEDS p50 minus echo p50 (what BEDS adds to the round trip):\n` +
        `  read by key:    local ${overhead(local, "BEDS read by key", "echo (read size)")} ms, ` +
        `WAN ${overhead(wan, "BEDS read by key", "echo (read size)")} ms\n` +
        `  fan-out (24):   local ${overhead(local, "BEDS fan-out (24)", "echo (fan-out size)")} ms, ` +
        `WAN ${overhead(wan, "BEDS fan-out (24)", "echo (fan-out size)")} ms\n` +
        `  raw echo+24 DB: local ${overhead(local, "raw echo+24 DB calls", "echo (fan-out size)")} ms, ` +
        `WAN ${overhead(wan, "raw echo+24 DB calls", "echo (fan-out size)")} ms`,
    );
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    await Deno.mkdir(`${root}/lab/results`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/lab/results/${stamp}-wan.json`,
      JSON.stringify({ delay: values["delay-note"], local, wan }, null, 2) + "\n",
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await env.cleanup();
  }
}
