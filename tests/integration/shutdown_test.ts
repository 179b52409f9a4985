/**
 * Coordinated shutdown loses nothing: SIGTERM on a node process under load,
 * and `beds shutdown` of one of two nodes (hot swap).
 */
import assert from "node:assert/strict";
import type { Reply } from "../../src/protocol/mod.ts";
import { workQueueName } from "../../src/amqp/mod.ts";
import { cli, consumerCount, createTestEnv, ROOT, startNode, waitFor } from "../helpers/services.ts";
import { runLoad } from "../helpers/faults.ts";
import { assertWritesAccounted, FAST_RETRIES, skus } from "../helpers/writes.ts";

Deno.test("SIGTERM under load: in-flight writes finish, the rest wait in the queue, none is lost", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES });
  const instance = `sigterm-${env.id}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/src/main.ts`,
      "run",
      "--node",
      "appServer",
      "--instance",
      instance,
      ...env.cliArgs,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let second: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const queue = workQueueName(env.queuePrefix, "appServer", "wBroker");
    await waitFor(async () => await consumerCount(queue) >= 2, 20_000, "node process consumers");
    const client = await env.client();
    const sku = (i: number) => `SIG-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad<Reply>(
      400,
      25,
      (i) =>
        client.request(
          { template: "prd", op: "create", data: { sku: sku(i), name: `p${i}`, price: "3.00", stock: 1 } },
          { timeoutMs: 60_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 80, 20_000, "load to start");
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, "the node exits 0 after draining");
    assert.ok(done < 400, "the node stopped while requests were still coming");
    // A replacement node takes what was left in the queue.
    second = await startNode(env, "appServer", `replacement-${env.id}`);
    const results = await load;
    assertWritesAccounted(results, await skus(env, "SIG"), sku);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.stderr.cancel().catch(() => {});
    if (second) assert.equal(await second.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("hot swap: `beds shutdown` stops one of two nodes under load and the other carries on", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES });
  const a = await startNode(env, "appServer", `swap-a-${env.id}`);
  const b = await startNode(env, "appServer", `swap-b-${env.id}`);
  let aStopped = false;
  try {
    const client = await env.client();
    const sku = (i: number) => `HOT-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad<Reply>(
      400,
      20,
      (i) =>
        client.request(
          { template: "prd", op: "create", data: { sku: sku(i), name: `p${i}`, price: "4.00", stock: 1 } },
          { timeoutMs: 60_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 80, 20_000, "load to start");
    const shutdown = await cli(["shutdown", "--node", `swap-a-${env.id}`, ...env.cliArgs]);
    assert.equal(shutdown.code, 0, shutdown.err);
    assert.equal(await a.stop(), 0, "node a exits 0");
    aStopped = true;
    const results = await load;
    assertWritesAccounted(results, await skus(env, "HOT"), sku);
    const nodes = new Set(results.map((r) => (r.reply as Reply).meta.node));
    assert.ok(nodes.has(`swap-a-${env.id}`) && nodes.has(`swap-b-${env.id}`), "both nodes served");
    const late = results.slice(-50).map((r) => (r.reply as Reply).meta.node);
    assert.ok(late.every((n) => n === `swap-b-${env.id}`), "after the shutdown only node b serves");
    const unknown = await cli(["shutdown", "--node", "no-such-node", "--wait", "500", ...env.cliArgs]);
    assert.equal(unknown.code, 3);
    assert.match(unknown.err, /No node "no-such-node" is listening/);
  } finally {
    if (!aStopped) await a.stop();
    assert.equal(await b.stop(), 0);
    await env.cleanup();
  }
});
