/**
 * Runs a BEDS node as a child process (`deno run -A src/main.ts run`), as in
 * production, so its CPU time and memory can be read from `/proc/<pid>`
 * apart from the load generator's.
 *
 * @module
 */
import { workQueueName } from "../../src/amqp/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import { type BenchEnv, type BenchWorld, consumerCount, ROLE } from "./env.ts";
import { nodeV8Flags } from "../node_flags.ts";
import { terminate } from "./proc.ts";

/** A node child process. */
export interface NodeProcess {
  pid: number;
  instance: string;
  /** SIGTERM, then wait (SIGKILL after `timeoutMs`); resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number>;
  /** The last lines it wrote (stdout and stderr). */
  output(): string;
  /** Its exit code once it has exited (by itself or stopped); undefined while it runs. */
  exitCode(): number | undefined;
}

/** Options for {@link startNode}. */
export interface StartNodeOptions {
  env: BenchEnv;
  instance: string;
  /** Extra `deno run` flags, e.g. `["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]`. */
  denoFlags?: string[];
  /**
   * A source tree to run the node from (its `src/main.ts` and `deno.json`), e.g. another
   * revision for an A/B comparison (`ab_node.ts`). @default env.root
   */
  srcRoot?: string;
  /** The config to run with (e.g. a variant of `env`). @default env's own */
  world?: BenchWorld;
  /** Consumers each bound work queue must have before the node counts as up (competing nodes add up). */
  expectConsumers: (queue: string, perNode: number) => number;
}

/** Work queues of the role that have bindings, with their per-node consumer count. */
export function boundQueues(config: Config): Array<{ queue: string; instances: number }> {
  return config.nodes[ROLE]!.brokers
    .filter((b) => config.brokers[b]!.bindings.length)
    .map((b) => ({
      queue: workQueueName(config.amqp.queue_prefix, ROLE, b),
      instances: config.brokers[b]!.instances,
    }));
}

/** Starts a node and resolves once all its consumers are attached. */
export async function startNode(options: StartNodeOptions): Promise<NodeProcess> {
  const { env, instance } = options;
  const src = options.srcRoot ?? env.root;
  const world = options.world ?? env;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(options.srcRoot ? ["--config", `${src}/deno.json`] : []),
      ...nodeV8Flags(src),
      ...(options.denoFlags ?? []),
      `${src}/src/main.ts`,
      "run",
      "--node",
      ROLE,
      "--instance",
      instance,
      ...world.cliArgs,
    ],
    cwd: env.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter(Boolean));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited: number | undefined;
  const status = child.status.then((s) => exited = s.code);
  const node: NodeProcess = {
    pid: child.pid,
    instance,
    async stop(timeoutMs = 15_000) {
      if (exited === undefined) {
        await terminate(child, timeoutMs);
        await status;
      }
      await drained.catch(() => {});
      return exited ?? -1;
    },
    output: () => lines.join("\n"),
    exitCode: () => exited,
  };
  const deadline = Date.now() + 60_000;
  for (const { queue, instances } of boundQueues(world.config)) {
    const want = options.expectConsumers(queue, instances);
    while (await consumerCount(env.amqpUrl, queue) < want) {
      if (exited !== undefined) {
        await drained.catch(() => {});
        throw new Error(`BEDS node ${instance} exited with ${exited}:\n${node.output()}`);
      }
      if (Date.now() > deadline) {
        await node.stop();
        throw new Error(`BEDS node ${instance} did not attach its consumers to ${queue}:\n${node.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return node;
}
