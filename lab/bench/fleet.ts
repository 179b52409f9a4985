/**
 * The BEDS nodes a bench run measures: as many as a scenario asks for, plus, when one first asks,
 * a node with metrics off on a variant config of its own. A node that exits under load fails the
 * scenario with its last output.
 *
 * @module
 */
import { BedsClient } from "../../src/client/mod.ts";
import type { BenchEnv } from "./env.ts";
import { type NodeProcess, startNode } from "./node_process.ts";

/** The nodes of one bench run. */
export interface Fleet {
  /** Starts or stops nodes until `n` run. */
  ensure(n: number): Promise<void>;
  /** The nodes running now. */
  nodes(): readonly NodeProcess[];
  /** The node with metrics off and its client, started on first use. */
  withoutMetrics(): Promise<{ node: NodeProcess; client: BedsClient }>;
  /**
   * Throws if a node has exited, with its last output. Exited nodes are dropped first, so the
   * next scenario starts fresh ones.
   */
  check(during: string): Promise<void>;
  close(): Promise<void>;
}

/** A fleet of nodes on `env`; `profileFlags(what)` adds Deno flags (CPU profiles). */
export function createFleet(env: BenchEnv, profileFlags: (what: string) => string[]): Fleet {
  const nodes: NodeProcess[] = [];
  let seq = 0;
  let noMetrics: Promise<{ node: NodeProcess; client: BedsClient }> | undefined;
  return {
    async ensure(n) {
      while (nodes.length > n) await nodes.pop()!.stop();
      while (nodes.length < n) {
        const running = nodes.length;
        nodes.push(
          await startNode({
            env,
            instance: `bench-${env.id}-${seq++}`,
            denoFlags: profileFlags("node"),
            expectConsumers: (_queue, perNode) => perNode * (running + 1),
          }),
        );
      }
    },
    nodes: () => nodes,
    withoutMetrics: () =>
      noMetrics ??= (async () => {
        const world = await env.variant("nometrics", { http: false });
        const node = await startNode({
          env,
          world,
          instance: `bench-${env.id}-nometrics`,
          denoFlags: profileFlags("node_nometrics"),
          expectConsumers: (_queue, perNode) => perNode,
        });
        const client = await BedsClient.connect({ amqp: world.config.amqp, name: "bench-beds-nometrics" });
        return { node, client };
      })(),
    async check(during) {
      const dead = nodes.filter((n) => n.exitCode() !== undefined);
      for (const node of dead) nodes.splice(nodes.indexOf(node), 1);
      const off = await noMetrics?.catch(() => undefined);
      if (off && off.node.exitCode() !== undefined) {
        dead.push(off.node);
        noMetrics = undefined;
        await off.client.close().catch(() => {});
      }
      if (!dead.length) return;
      const lines: string[] = [];
      for (const node of dead) {
        const code = await node.stop();
        const tail = node.output().split("\n").slice(-10).join("\n");
        lines.push(
          `BEDS node ${node.instance} (pid ${node.pid}) exited with ${code} ${during}${
            tail ? `:\n${tail}` : ""
          }`,
        );
      }
      throw new Error(lines.join("\n"));
    },
    async close() {
      while (nodes.length) await nodes.pop()!.stop();
      const off = await noMetrics?.catch(() => undefined);
      await off?.client.close();
      await off?.node.stop();
    },
  };
}
