/**
 * The HTTP gateway while RabbitMQ blocks its connection (a resource alarm):
 * every request is answered 503 at once with Retry-After, nothing sent,
 * instead of being buffered until its timeout, and /ready says the node
 * cannot serve until the block ends.
 */
import assert from "node:assert/strict";
import { createTestEnv, startNode, waitFor } from "../helpers/services.ts";
import { httpGet, httpPost, nodeUrls } from "../helpers/http.ts";
import { startBlockingProxy } from "../helpers/amqp_block_proxy.ts";

Deno.test("while RabbitMQ blocks the gateway's connection it answers 503 at once and is not ready", async () => {
  const proxy = startBlockingProxy();
  // Every connection of the node goes through the proxy, so the block reaches the gateway's too.
  const env = await createTestEnv({ amqp: { port: proxy.port } });
  const instance = `gwblock-${env.id}`;
  const node = await startNode(env, "gateway", instance);
  try {
    const urls = await nodeUrls(env, instance, { gateway: true });
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 200, 10_000, "/ready 200");

    await proxy.block("low on memory");
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 503, 5000, "/ready 503");
    const ready = JSON.parse((await httpGet(`${urls.http}/ready`)).text);
    assert.ok(
      ready.reasons.some((reason: string) => reason.includes("RabbitMQ blocks it")),
      JSON.stringify(ready),
    );

    const filler = "x".repeat(60_000);
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => httpPost(`${urls.gateway}/v1/cus/read`, { where: { email: filler } })),
    );
    assert.ok(performance.now() - started < 2000, `answered after ${performance.now() - started} ms`);
    for (const { status, headers, json } of answers) {
      assert.equal(status, 503);
      assert.equal(headers.get("retry-after"), "1");
      const error = json.error as { code: string; message: string };
      assert.equal(error.code, "OVERLOADED");
      assert.match(error.message, /RabbitMQ blocks the connection.*nothing was sent/);
    }

    await proxy.unblock();
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 200, 5000, "/ready 200 again");
    // Sent again: no node serves the test's exchange here, so RabbitMQ returns it unroutable.
    const { status } = await httpPost(`${urls.gateway}/v1/cus/read`, { key: { id: 1 } });
    assert.equal(status, 404);
  } finally {
    await proxy.unblock();
    assert.equal(await node.stop(), 0);
    proxy.close();
    await env.cleanup();
  }
});

Deno.test("while RabbitMQ blocks a node's own connection, /ready says so: its replies cannot go out", async () => {
  const proxy = startBlockingProxy();
  const env = await createTestEnv({ amqp: { port: proxy.port } });
  const instance = `appblock-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  try {
    const urls = await nodeUrls(env, instance);
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 200, 10_000, "/ready 200");
    await proxy.block("low on memory");
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 503, 5000, "/ready 503");
    const ready = JSON.parse((await httpGet(`${urls.http}/ready`)).text);
    assert.deepEqual(ready.reasons, ["RabbitMQ blocks the node's connection (a resource alarm)"]);
    await proxy.unblock();
    await waitFor(async () => (await httpGet(`${urls.http}/ready`)).status === 200, 5000, "/ready 200 again");
  } finally {
    await proxy.unblock();
    assert.equal(await node.stop(), 0);
    proxy.close();
    await env.cleanup();
  }
});
