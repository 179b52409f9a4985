/**
 * Starts a raw ceiling service (`raw_service.ts`) as a child process and
 * waits for its `ready` line.
 *
 * @module
 */
import type { BenchEnv } from "./env.ts";
import { boundQueues } from "./node_process.ts";
import { terminate } from "./proc.ts";
import type { RawQueue, RawServiceConfig } from "./raw_service.ts";

/** A running raw service process. */
export interface RawProcess {
  pid: number;
  stop(): Promise<void>;
}

/** The raw service's queues: one per bound BEDS broker, same type, instances and prefetch. */
export function rawQueuesLike(env: BenchEnv, tag: string): RawQueue[] {
  const { config } = env;
  return boundQueues(config).map(({ queue }) => {
    const broker = queue.slice(queue.lastIndexOf(".") + 1);
    const b = config.brokers[broker]!;
    const name = `${config.amqp.queue_prefix}raw.${tag}.${broker}`;
    env.rawQueues.add(name);
    return { name, bindings: b.bindings, type: b.queue_type, instances: b.instances, prefetch: b.prefetch };
  });
}

/** Spawns `raw_service.ts` with `config` (and extra `deno run` flags) and resolves once it consumes. */
export async function startRawService(
  env: BenchEnv,
  config: RawServiceConfig,
  denoFlags: string[] = [],
): Promise<RawProcess> {
  const file = await Deno.makeTempFile({ prefix: "beds_raw_", suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(config));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, `${env.root}/lab/bench/raw_service.ts`, file],
    cwd: env.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errText = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) {
      await Deno.remove(file).catch(() => {});
      throw new Error(`raw ${config.mode} service exited: ${await errText}`);
    }
    seen += value;
  }
  // Keep reading so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  return {
    pid: child.pid,
    async stop() {
      await terminate(child, 15_000);
      await errText.catch(() => {});
      await Deno.remove(file).catch(() => {});
    },
  };
}
