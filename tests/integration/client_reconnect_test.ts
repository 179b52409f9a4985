/**
 * The reconnecting client (used by the gateway and the soak) replaces a
 * killed connection by itself: requests in flight fail `CLOSED`, requests
 * made while it is down fail `DISCONNECTED` at once or wait for the
 * reconnect, and later requests go through.
 */
import assert from "node:assert/strict";
import { BedsClientError, createReconnectingClient } from "../../src/client/mod.ts";
import { type AmqpConfig, loadConfig } from "../../src/config/mod.ts";
import { createTestEnv, ROOT, startNode, uniqueId, waitFor, within } from "../helpers/services.ts";
import { closeAmqpConnections } from "../helpers/faults.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";

/** The test config's AMQP settings, on an exchange no node declares. */
function amqpSettings(over: Partial<AmqpConfig> = {}): AmqpConfig {
  const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test" } });
  return { ...config.amqp, user: "guest", pass: "guest", exchange: `t.missing.${uniqueId()}`, ...over };
}

Deno.test("a reconnecting client comes back after its connection is killed", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const name = `beds test reconnect ${env.id}`;
  const client = createReconnectingClient({ amqp: env.config.amqp, name, watchMs: 50, maxBackoffMs: 1500 });
  try {
    await client.open();
    assert.equal((await client.request({ template: "cus", op: "read", key: { id: 1 } })).ok, true);
    assert.equal(await closeAmqpConnections(name), 1);
    // The watchdog replaces the connection with no request coming in.
    await waitFor(() => client.reconnects() === 1 && client.connected(), 20_000, "the client to reconnect");
    assert.equal((await client.request({ template: "cus", op: "read", key: { id: 2 } })).ok, true);
  } finally {
    await client.close();
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a reconnecting client reconnects on demand for a request that may wait", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const name = `beds test on demand ${env.id}`;
  // A slow watchdog: nothing reconnects behind the test's back.
  const client = createReconnectingClient({ amqp: env.config.amqp, name, watchMs: 60_000 });
  try {
    await client.open();
    assert.equal(await closeAmqpConnections(name), 1);
    await waitFor(() => !client.connected(), 10_000, "the client to see its connection lost");
    const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } }, {
      waitForConnection: true,
    });
    assert.equal(reply.ok, true);
    assert.equal(client.reconnects(), 1);
  } finally {
    await client.close();
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("with RabbitMQ unreachable: open() throws, requests fail DISCONNECTED, close() releases waiters", async () => {
  const env = await createTestEnv();
  const unreachable = { ...env.config.amqp, url: undefined, port: 1 };
  const client = createReconnectingClient({
    amqp: unreachable,
    name: `beds test down ${env.id}`,
    watchMs: 60_000,
  });
  try {
    await assert.rejects(client.open());
    const waiting = assert.rejects(
      client.whenConnected(),
      (e) => e instanceof BedsClientError && e.kind === "DISCONNECTED",
    );
    await assert.rejects(
      client.request({ template: "cus", op: "read", key: { id: 1 } }),
      (e) => e instanceof BedsClientError && e.kind === "DISCONNECTED",
    );
    assert.equal(client.connected(), false);
    await client.close();
    await waiting;
  } finally {
    await client.close();
    await env.cleanup();
  }
});

Deno.test("a request waiting for a connection gives up DISCONNECTED after its timeoutMs", async () => {
  const proxy = startSlowProxy();
  const client = createReconnectingClient({
    amqp: amqpSettings({ port: proxy.port }),
    name: `beds test wait deadline ${uniqueId()}`,
    watchMs: 50,
    maxBackoffMs: 500,
  });
  try {
    await client.open();
    proxy.close(); // RabbitMQ is unreachable from now on
    await waitFor(() => !client.connected(), 10_000, "the client to see its connection lost");
    const started = performance.now();
    const request = client.request({ template: "cus", op: "read", key: { id: 1 } }, {
      waitForConnection: true,
      timeoutMs: 500,
    });
    assert.equal(await within(request, 5000), "DISCONNECTED");
    const waited = performance.now() - started;
    assert.ok(waited >= 450 && waited < 2000, `gave up after ${waited} ms`);
  } finally {
    await client.close();
    proxy.close();
  }
});

Deno.test("a connection RabbitMQ closes before any reply counts as a failed attempt: reconnects back off", async () => {
  // RabbitMQ closes the channel of every request: the exchange does not exist.
  const client = createReconnectingClient({ amqp: amqpSettings(), name: `beds test churn ${uniqueId()}` });
  try {
    await client.open();
    const requests: Promise<unknown>[] = [];
    for (const end = Date.now() + 2000; Date.now() < end;) {
      requests.push(within(client.request({ template: "cus", op: "read", key: { id: 1 } }), 5000));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Backoff from 200 ms, doubling: about 4 attempts in 2 s, where each request used to open one.
    assert.ok(client.reconnects() <= 8, `${client.reconnects()} reconnects for ${requests.length} requests`);
    // The rest fail at once, nothing sent, while the backoff runs.
    assert.deepEqual(new Set(await Promise.all(requests)), new Set(["CLOSED", "DISCONNECTED"]));
  } finally {
    await client.close();
  }
});

Deno.test("close() of a reconnecting client on a link gone silent returns and fails requests CLOSED", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const proxy = startSlowProxy();
  const client = createReconnectingClient({
    amqp: { ...env.config.amqp, port: proxy.port, heartbeat: 0 },
    name: `beds test frozen ${env.id}`,
    closeTimeoutMs: 500,
  });
  try {
    await client.open();
    assert.equal((await client.request({ template: "cus", op: "read", key: { id: 1 } })).ok, true);
    proxy.freeze();
    const request = client.request({ template: "cus", op: "read", key: { id: 2 } }, { timeoutMs: 30_000 });
    const closed = client.close().then(() => "closed");
    assert.deepEqual(
      { request: await within(request, 1000), close: await within(closed, 5000) },
      { request: "CLOSED", close: "closed" },
    );
  } finally {
    proxy.close();
    await client.close();
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
