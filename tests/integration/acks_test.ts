import assert from "node:assert/strict";
import type { RequestBody } from "../../src/client/mod.ts";
import { createTestEnv, readyCount, startNode, waitFor, workQueues } from "../helpers/services.ts";

/** Unacknowledged deliveries of each queue whose name starts with `prefix`, read with rabbitmqctl. */
async function unacked(prefix: string): Promise<Map<string, number>> {
  const out = await new Deno.Command("rabbitmqctl", {
    args: ["list_queues", "name", "messages_unacknowledged", "-q", "--no-table-headers"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const counts = new Map<string, number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [name, count] = line.trim().split(/\s+/);
    if (name?.startsWith(prefix)) counts.set(name, Number(count));
  }
  return counts;
}

Deno.test("deliveries that finish out of order are each acked once: none left unacked, none redelivered", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", "acks-node");
  let stopped = false;
  try {
    const client = await env.client();
    // Fan-outs take far longer than reads by key, and failures end at once, so on each consumer
    // channel deliveries finish out of the order they came: some acks are batched, some not.
    const bodies: RequestBody[] = Array.from(
      { length: 300 },
      (_, i) =>
        i % 10 === 0
          ? { template: "dsh", op: "read" }
          : i % 10 === 5
          ? { template: "prd", op: "read", key: { id: 999_999 } }
          : { template: "prd", op: "read", key: { id: 1 + (i % 12) } },
    );
    const replies = await Promise.all(bodies.map((body) => client.request(body)));

    await t.step("every request has its one reply", () => {
      for (const [i, reply] of replies.entries()) {
        const missing = i % 10 === 5;
        assert.equal(reply.ok, !missing, `request ${i}: ${JSON.stringify(reply).slice(0, 200)}`);
        if (!reply.ok) assert.equal(reply.error.code, "NOT_FOUND");
      }
      assert.equal(new Set(replies.map((r) => r.meta.event)).size, 300);
    });

    await t.step("no delivery stays unacknowledged once its reply is out", async () => {
      let counts = new Map<string, number>();
      await waitFor(async () => {
        counts = await unacked(env.queuePrefix);
        return counts.size > 0 && [...counts.values()].every((n) => n === 0);
      }, 15_000);
      assert.ok(counts.size >= workQueues(env).length, `queues seen: ${[...counts.keys()].join(", ")}`);
    });

    await t.step("stopping the node requeues nothing (every delivery was acked, none twice)", async () => {
      assert.equal(await node.stop(), 0);
      stopped = true;
      for (const queue of workQueues(env)) assert.equal(await readyCount(queue), 0, queue);
      // An ack naming a delivery no longer outstanding would have made RabbitMQ close the channel.
      const { out, err } = node.output();
      assert.doesNotMatch(out + err, /consumer channel error|ack not sent|unknown delivery tag/i);
    });
  } finally {
    if (!stopped) await node.stop();
    await env.cleanup();
  }
});
