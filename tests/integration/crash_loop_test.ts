/**
 * A consumer that keeps failing soon after each restart is a crash loop: the
 * pool backs off, says so in `beds status`, and serves again when it ends.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { workQueueName } from "../../src/amqp/mod.ts";
import {
  AMQP_URL,
  cli,
  consumerCount,
  createTestEnv,
  startNode,
  type TestEnv,
  waitFor,
} from "../helpers/services.ts";

interface BrokerState {
  broker: string;
  consumers: number;
  restarts: number;
  crashLoop: boolean;
}

async function brokers(env: TestEnv): Promise<Map<string, BrokerState>> {
  const run = await cli(["status", "--json", ...env.cliArgs]);
  assert.equal(run.code, 0, run.err);
  const nodes = JSON.parse(run.out) as Array<{ brokers: BrokerState[] }>;
  return new Map(nodes[0]!.brokers.map((b) => [b.broker, b]));
}

Deno.test("a consumer crash loop backs off, shows in status, and ends when the cause goes", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
    const before = await brokers(env);
    assert.equal(before.get("rBroker")!.crashLoop, false);
    // Deleting the queue cancels its consumers; the pool re-declares it and restarts them.
    for (let i = 0; i < 5; i++) {
      await waitFor(async () => await consumerCount(queue) === 2, 15_000, `restart ${i}`);
      const ch = await conn.createChannel();
      await ch.deleteQueue(queue);
      await ch.close();
    }
    const looping = await brokers(env);
    assert.equal(looping.get("rBroker")!.crashLoop, true, JSON.stringify(looping.get("rBroker")));
    assert.ok(looping.get("rBroker")!.restarts >= 10, "both instances restarted five times");
    assert.equal(looping.get("wBroker")!.crashLoop, false, "other brokers are unaffected");
    assert.equal(looping.get("mBroker")!.crashLoop, false);
    const table = await cli(["status", ...env.cliArgs]);
    assert.match(table.out, /rBroker [\d/]+ CRASH-LOOP/);
    assert.doesNotMatch(table.out, /wBroker [\d/]+ CRASH-LOOP/);
    // The fifth restart waits 1.6 s; then the consumers serve again.
    const client = await env.client();
    await waitFor(
      async () => {
        const r = await client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 500 })
          .catch(() => undefined);
        return r?.ok === true;
      },
      15_000,
      "the read broker to serve again",
    );
    assert.equal((await brokers(env)).get("rBroker")!.consumers, 2);
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
