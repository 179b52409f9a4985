/**
 * The node under soak: a `beds run` child process (as in production, so its
 * memory is its own), its output kept in a log file, its resident memory
 * read from `/proc/<pid>/status`.
 *
 * @module
 */
import { boundQueues, queueCounts, ROLE, type SoakEnv } from "./env.ts";
import { terminate } from "../bench/proc.ts";
import { nodeV8Flags } from "../node_flags.ts";

/** A node child process. */
export interface SoakNode {
  pid: number;
  instance: string;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number>;
  /** Resolves with the exit code if the node exits by itself. */
  exited: Promise<number>;
}

/** Resident set size of `pid` in KiB (`VmRSS`), or undefined if it cannot be read. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `beds run` as a child and resolves once every consumer is attached. */
export async function startSoakNode(env: SoakEnv, instance: string, logFile: string): Promise<SoakNode> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...nodeV8Flags(env.root),
      `${env.root}/src/main.ts`,
      "run",
      "--node",
      ROLE,
      "--instance",
      instance,
      ...env.cliArgs,
    ],
    cwd: env.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log = await Deno.open(logFile, { write: true, create: true, truncate: true });
  // Both streams go to one file, chunk by chunk as they come, so the soak can read it mid-run.
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      for (let at = 0; at < chunk.length;) at += log.writeSync(chunk.subarray(at));
    }
  };
  const copied = Promise.all([copy(child.stdout), copy(child.stderr)]).finally(() => log.close());
  const exited = child.status.then((s) => s.code);
  let done: number | undefined;
  exited.then((code) => done = code);
  const node: SoakNode = {
    pid: child.pid,
    instance,
    exited,
    async stop(timeoutMs = 20_000) {
      if (done === undefined) await terminate(child, timeoutMs);
      await copied.catch(() => {});
      return await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  for (const queue of boundQueues(env)) {
    const broker = queue.slice(queue.lastIndexOf(".") + 1);
    while ((await queueCounts(env.amqpUrl, queue)).consumers < env.config.brokers[broker]!.instances) {
      if (done !== undefined) throw new Error(`the node exited with code ${done}; see ${logFile}`);
      if (Date.now() > deadline) {
        await node.stop();
        throw new Error(`the node did not attach its consumers to ${queue}; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return node;
}
