import assert from "node:assert/strict";
import {
  consumerCount,
  createTestEnv,
  type RunningNode,
  startNode,
  workQueues,
} from "../helpers/services.ts";
import { expectOk } from "../helpers/replies.ts";

Deno.test("two appServer nodes share the work queues and one keeps serving when the other stops", async (t) => {
  const env = await createTestEnv();
  const nodes: RunningNode[] = [];
  try {
    nodes.push(await startNode(env, "appServer", "node-a"));
    nodes.push(await startNode(env, "appServer", "node-b"));
    const [a, b] = nodes as [RunningNode, RunningNode];
    const client = await env.client();
    const readAll = async (count: number) => {
      const replies = await Promise.all(
        Array.from(
          { length: count },
          (_, i) => client.request({ template: "cus", op: "read", key: { id: 1 + (i % 20) } }),
        ),
      );
      replies.forEach((reply, i) => assert.equal(expectOk(reply).id, 1 + (i % 20)));
      const served = new Map<string, number>();
      for (const reply of replies) served.set(reply.meta.node, (served.get(reply.meta.node) ?? 0) + 1);
      return served;
    };

    await t.step("both nodes consume every work queue", async () => {
      assert.deepEqual(await Promise.all(workQueues(env).map(consumerCount)), [4, 4, 2]);
    });

    await t.step("200 reads are served by both nodes", async () => {
      const served = await readAll(200);
      assert.deepEqual([...served.keys()].sort(), ["node-a", "node-b"], JSON.stringify([...served]));
      assert.equal(served.get("node-a")! + served.get("node-b")!, 200);
    });

    await t.step("writes and calls are shared too", async () => {
      const replies = await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) =>
            i % 2
              ? client.request({
                template: "prd",
                op: "update",
                key: { id: 1 + (i % 30) },
                data: { name: `Item ${i}` },
              })
              : client.request({ template: "cus", op: "call", call: "order_total", key: { id: 1 } }),
        ),
      );
      for (const reply of replies) expectOk<unknown>(reply);
      assert.deepEqual([...new Set(replies.map((r) => r.meta.node))].sort(), ["node-a", "node-b"]);
    });

    await t.step("after one node stops, the other serves everything", async () => {
      assert.equal(await a.stop(), 0);
      assert.deepEqual(await Promise.all(workQueues(env).map(consumerCount)), [2, 2, 1]);
      const served = await readAll(100);
      assert.deepEqual([...served], [["node-b", 100]]);
      const write = await client.request({
        template: "prd",
        op: "update",
        key: { id: 2 },
        data: { stock: 181 },
      });
      assert.equal(expectOk(write).stock, 181);
      assert.equal(write.meta.node, "node-b");
      assert.equal(b.output().err, "");
    });
  } finally {
    for (const node of nodes) assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
