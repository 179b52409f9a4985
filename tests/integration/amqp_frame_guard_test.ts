/**
 * One message whose headers nest thousands of levels deep (RabbitMQ takes it
 * from any publisher) no longer takes a node off RabbitMQ: amqplib's
 * decoder overflowed its stack on it, closed the connection, and the message,
 * given back, did the same on every reconnect. The frame guard drops such a
 * header table before amqplib reads it.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { connectAmqp, framesGuarded } from "../../src/amqp/mod.ts";
import { AMQP_URL, createTestEnv, dbQuery, startNode, waitFor, workQueues } from "../helpers/services.ts";
import { deepHeaders, publishRaw } from "../helpers/raw_amqp.ts";

Deno.test("the frame guard applies to the pinned amqplib", async () => {
  const env = await createTestEnv({ emptySchema: true });
  const model = await connectAmqp(env.config.amqp, { name: "beds frame guard check" });
  try {
    assert.ok(framesGuarded(model), "connection.stream.read is no longer where amqplib reads frames");
  } finally {
    await model.close();
    await env.cleanup();
  }
});

Deno.test("a message with headers nested 6,000 deep is served, and the node stays connected", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const [queue] = workQueues(env).filter((q) => q.includes("wBroker"));
    assert.ok(queue, JSON.stringify(workQueues(env)));
    const before = await ch.checkQueue(queue);
    await publishRaw({
      exchange: env.exchange,
      routingKey: "create.prd",
      body: JSON.stringify({
        template: "prd",
        op: "create",
        data: { sku: "DEP-0001", name: "Deep headers", price: "1.00", stock: 1 },
      }),
      headers: deepHeaders(6000),
    });
    // Run once and acked: the product is there and the queue holds nothing of it.
    await waitFor(
      async () =>
        (await dbQuery<Array<{ n: number }>>(
          env,
          "SELECT COUNT(*) AS n FROM products WHERE sku = 'DEP-0001'",
        ))[0]!.n === 1,
      10_000,
      "the product to be created",
    );
    await waitFor(
      async () => {
        const q = await ch.checkQueue(queue);
        return q.messageCount === 0 && q.consumerCount === before.consumerCount;
      },
      5_000,
      "the queue to be empty with its consumers attached",
    );
    const client = await env.client();
    const read = await client.request({ template: "prd", op: "read", where: { sku: ["DEP-0001"] } }, {
      timeoutMs: 3_000,
    });
    assert.ok(read.ok, JSON.stringify(read));
    assert.equal((read.data as unknown[]).length, 1);
    assert.equal(node.output().err.match(/amqp disconnected/g)?.length ?? 0, 0, node.output().err);
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
