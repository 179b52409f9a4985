/**
 * BedsClient with publisher confirms: send() resolves only once RabbitMQ
 * holds the message, an unroutable one is refused at once, and request()
 * works on the same client.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { workQueueName } from "../../src/amqp/mod.ts";
import { BedsClient, BedsClientError } from "../../src/client/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import {
  AMQP_URL,
  createTestEnv,
  readyCount,
  ROOT,
  startNode,
  uniqueId,
  waitFor,
} from "../helpers/services.ts";
import { expectOk } from "../helpers/replies.ts";
import { skus } from "../helpers/writes.ts";

const unroutable = (error: unknown) => error instanceof BedsClientError && error.kind === "UNROUTABLE";

Deno.test("BedsClient with confirms: send() resolves once RabbitMQ holds the message", async (t) => {
  const env = await createTestEnv();
  // A node declares the queues once; stopped, it leaves them without consumers.
  assert.equal(await (await startNode(env)).stop(), 0);
  const client = await BedsClient.connect({
    amqp: env.config.amqp,
    confirm: true,
    name: `confirm-${env.id}`,
  });
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const queue = workQueueName(env.queuePrefix, "appServer", "wBroker");

    await t.step("send() resolves only after the broker took the message", async () => {
      for (let i = 0; i < 5; i++) {
        await client.send({
          template: "prd",
          op: "create",
          data: { sku: `CNF-000${i}`, name: `c${i}`, price: "1.00", stock: 1 },
        });
        // No waiting: the confirm means the queue already holds it.
        assert.equal(await readyCount(queue), i + 1);
      }
    });

    await t.step("the node applies what was sent once it runs", async () => {
      node = await startNode(env);
      await waitFor(
        async () => (await skus(env, "CNF")).size === 5,
        10_000,
        "the sent creates to be applied",
      );
      await waitFor(async () => await readyCount(queue) === 0, 5000, "the work queue to drain");
    });

    await t.step("send() rejects UNROUTABLE for a key no queue is bound for", async () => {
      // Every op is bound as "<op>.*", which matches one-word templates only.
      await assert.rejects(
        client.send({
          template: "prd.extra",
          op: "create",
          data: { sku: "CNF-0100", name: "x", price: "1.00" },
        }),
        unroutable,
      );
      assert.equal(client.inflight, 0);
      assert.equal(client.closed, false, "an unroutable message does not close the client");
    });

    await t.step("send() waits for RabbitMQ's verdict: a message it refuses rejects REFUSED", async () => {
      // A queue that takes nothing, bound to a key no work queue binds (two words after the op).
      const full = `${env.queuePrefix}full`;
      const conn = await amqp.connect(AMQP_URL);
      const ch = await conn.createChannel();
      try {
        await ch.assertQueue(full, { arguments: { "x-max-length": 0, "x-overflow": "reject-publish" } });
        await ch.bindQueue(full, env.exchange, "create.nck.full");
        await assert.rejects(
          client.send({ template: "nck.full", op: "create", data: {} }),
          (error: unknown) => error instanceof BedsClientError && error.kind === "REFUSED",
        );
        // Without confirms the same send resolves: nothing waits for the broker.
        const plain = await BedsClient.connect({ amqp: env.config.amqp, name: `plain-${env.id}` });
        await plain.send({ template: "nck.full", op: "create", data: {} });
        await plain.close();
      } finally {
        await ch.deleteQueue(full).catch(() => {});
        await conn.close();
      }
      assert.equal(client.closed, false);
    });

    await t.step("request() works on a confirm client", async () => {
      const row = expectOk(await client.request({ template: "prd", op: "read", where: { sku: "CNF-0001" } }));
      assert.equal((row as unknown as Array<{ sku: string }>)[0]!.sku, "CNF-0001");
      const created = expectOk(
        await client.request({
          template: "prd",
          op: "create",
          data: { sku: "CNF-0010", name: "r", price: "2.00", stock: 2 },
        }),
      );
      assert.equal(created.sku, "CNF-0010");
      await assert.rejects(client.request({ template: "prd.extra", op: "read" }), unroutable);
    });

    await t.step("many sends in flight each resolve with their own confirm", async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) =>
        client.send({
          template: "prd",
          op: "create",
          data: { sku: `CNM-${String(i).padStart(4, "0")}`, name: `m${i}`, price: "1.00", stock: 1 },
        })));
      assert.equal(client.inflight, 0);
      await waitFor(async () => (await skus(env, "CNM")).size === 50, 10_000, "the 50 sends to be applied");
    });

    await t.step("send() on a closed client rejects CLOSED", async () => {
      await client.close();
      await assert.rejects(
        client.send({ template: "prd", op: "create", data: { sku: "CNF-0200", name: "x", price: "1.00" } }),
        (error: unknown) => error instanceof BedsClientError && error.kind === "CLOSED",
      );
    });
  } finally {
    await client.close();
    if (node) assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("with confirms, a request RabbitMQ refuses (nack) rejects REFUSED at once", async () => {
  const id = uniqueId();
  const exchange = `t.nack.${id}`;
  const full = `t.nack.${id}.full`;
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, "topic", { durable: false });
  // A queue that takes nothing: RabbitMQ nacks every message routed to it.
  await ch.assertQueue(full, {
    durable: false,
    arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
  });
  await ch.bindQueue(full, exchange, "#");
  const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test" } });
  const client = await BedsClient.connect({
    amqp: { ...config.amqp, user: "guest", pass: "guest", exchange },
    confirm: true,
    timeoutMs: 10_000,
    name: `nack-${id}`,
  });
  try {
    const started = performance.now();
    await assert.rejects(
      client.request({ template: "cus", op: "read", key: { id: 1 } }),
      (error: unknown) => error instanceof BedsClientError && error.kind === "REFUSED",
    );
    assert.ok(performance.now() - started < 2000, `rejected after ${performance.now() - started} ms`);
    assert.equal(client.inflight, 0);
    assert.equal(client.closed, false, "a refused request does not close the client");
  } finally {
    await client.close();
    await ch.deleteQueue(full);
    await ch.deleteExchange(exchange);
    await conn.close();
  }
});

Deno.test("a request RabbitMQ refuses fails with RabbitMQ's reason, and the client is closed", async () => {
  const env = await createTestEnv();
  const client = await BedsClient.connect({
    amqp: { ...env.config.amqp, exchange: `${env.exchange}.missing` },
    name: `refused-${env.id}`,
  });
  try {
    const results = await Promise.allSettled([
      client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 5_000 }),
      client.request({ template: "cus", op: "read", key: { id: 2 } }, { timeoutMs: 5_000 }),
    ]);
    for (const result of results) {
      assert.equal(result.status, "rejected");
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(error instanceof BedsClientError, String(error));
      assert.equal(error.kind, "CLOSED");
      assert.match(error.message, /Channel closed by RabbitMQ: .*NOT_FOUND - no exchange/);
    }
    assert.equal(client.closed, true);
  } finally {
    await client.close();
    await env.cleanup();
  }
});
