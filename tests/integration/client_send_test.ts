/**
 * BedsClient without confirms: sends handed over are all delivered even
 * when close() follows at once, and requests that cannot go out fail at
 * once instead of waiting for their timeout.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { BedsClient, BedsClientError, MAX_TIMEOUT_MS } from "../../src/client/mod.ts";
import type { AmqpConfig } from "../../src/config/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { AMQP_URL, cli, ROOT, uniqueId, waitFor } from "../helpers/services.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";
import { startBlockingProxy } from "../helpers/amqp_block_proxy.ts";

/** An exchange of its own with one queue bound for every key, and the test config's AMQP settings on it. */
async function boundQueue() {
  const id = uniqueId();
  const exchange = `t.send.${id}`;
  const queue = `t.send.${id}.all`;
  const admin = await amqp.connect(AMQP_URL, { noDelay: true });
  const channel = await admin.createChannel();
  await channel.assertExchange(exchange, "topic", { durable: false });
  await channel.assertQueue(queue, { durable: false });
  await channel.bindQueue(queue, exchange, "#");
  const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test" } });
  const amqpConfig: AmqpConfig = { ...config.amqp, user: "guest", pass: "guest", exchange };
  return {
    amqpConfig,
    count: async () => (await channel.checkQueue(queue)).messageCount,
    async cleanup() {
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await admin.close();
    },
  };
}

Deno.test("sends without confirms, all in flight, then close(): RabbitMQ has every one", async () => {
  const bound = await boundQueue();
  // A slow link (about 3 MB/s), so most of what is sent is still in the client's buffers at close().
  const proxy = startSlowProxy({ bytesPerTick: 64 * 1024, tickMs: 20 });
  try {
    const client = await BedsClient.connect({
      amqp: { ...bound.amqpConfig, port: proxy.port },
      name: `send-close-${uniqueId()}`,
    });
    const filler = "x".repeat(8 * 1024);
    const n = 1000;
    let resolved = 0;
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          client.send({ template: "prd", op: "create", data: { sku: `S-${i}`, filler } }).then(() =>
            resolved++
          ),
      ),
    );
    await client.close();
    assert.equal(resolved, n);
    let count = 0;
    for (let i = 0; i < 100 && count < n; i++) {
      count = await bound.count();
      if (count < n) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(count, n, "every message send() resolved for is in the queue");
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("a request that cannot be published fails at once and leaves nothing waiting", async () => {
  const bound = await boundQueue();
  const client = await BedsClient.connect({ amqp: bound.amqpConfig, name: `send-fail-${uniqueId()}` });
  try {
    // A routing key over AMQP's 255 bytes: amqplib refuses it before anything is sent.
    await assert.rejects(
      client.request({ template: "x".repeat(300), op: "read" }, { timeoutMs: 30_000 }),
      (error) =>
        error instanceof BedsClientError && error.kind === "CLOSED" && /Not sent/.test(error.message),
    );
    assert.equal(client.inflight, 0);
    for (const timeoutMs of [0, -1, MAX_TIMEOUT_MS + 1, Number.NaN]) {
      await assert.rejects(client.request({ template: "prd", op: "read" }, { timeoutMs }), RangeError);
    }
    assert.equal(client.inflight, 0);
    assert.equal(await bound.count(), 0, "nothing was published");
    await assert.rejects(BedsClient.connect({ amqp: bound.amqpConfig, timeoutMs: 3e9 }), RangeError);
  } finally {
    await client.close();
    await bound.cleanup();
  }
});

Deno.test("beds call refuses a --timeout a timer cannot wait", async () => {
  for (const timeout of ["0", "3000000000"]) {
    const run = await cli([
      "call",
      "prd",
      "read",
      "--timeout",
      timeout,
      "--config",
      `${ROOT}/config`,
      "--env",
      "test",
    ]);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /--timeout must be 1–2147483647 ms/);
  }
});

Deno.test("while RabbitMQ blocks the connection: sends handed over do not time out, and close() does not hang", async (t) => {
  const bound = await boundQueue();
  const proxy = startBlockingProxy();
  try {
    await t.step("sends wait for the block to end, and are all delivered", async () => {
      const client = await BedsClient.connect({
        amqp: { ...bound.amqpConfig, port: proxy.port },
        name: `send-blocked-${uniqueId()}`,
        timeoutMs: 500,
      });
      await proxy.block();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const filler = "x".repeat(8 * 1024);
      const n = 2000; // 16 MiB: past what the sockets hold, so most wait for amqplib's buffer to drain
      const outcomes: string[] = [];
      const sends = Array.from(
        { length: n },
        (_, i) =>
          client.send({ template: "prd", op: "create", data: { sku: `B-${i}`, filler } }).then(
            () => outcomes.push("sent"),
            (error) => outcomes.push(error.kind ?? String(error)),
          ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500)); // three client timeouts
      assert.ok(!outcomes.includes("TIMEOUT"), "no send timed out while its message waited in the buffer");
      await proxy.unblock();
      await Promise.all(sends);
      assert.deepEqual(new Set(outcomes), new Set(["sent"]));
      // Closed while still blocked, a connection closes at once and what it buffered is lost: wait
      // for the client to see the block end.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.close();
      await waitFor(async () => await bound.count() === n, 10_000, "every message in the queue");
    });

    await t.step("close() while blocked returns at once", async () => {
      const client = await BedsClient.connect({
        amqp: { ...bound.amqpConfig, port: proxy.port },
        name: `close-blocked-${uniqueId()}`,
        timeoutMs: 30_000,
      });
      await proxy.block();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      await client.close();
      assert.ok(performance.now() - started < 2_000, `close() took ${performance.now() - started} ms`);
      await proxy.unblock();
    });
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});
