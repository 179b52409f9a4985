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
import type { Logger } from "../../src/logging/mod.ts";

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

Deno.test("while a connect attempt hangs, requests fail DISCONNECTED at once and close() does not wait for it", async () => {
  const proxy = startSlowProxy();
  const name = `beds test hanging ${uniqueId()}`;
  const events: string[] = [];
  const logger = {
    debug: (_: unknown, message: string) => events.push(message),
    info: (_: unknown, message: string) => events.push(message),
    warn: (_: unknown, message: string) => events.push(message),
  } as unknown as Logger;
  const client = createReconnectingClient({
    // A missed heartbeat (2 s) ends the connection the frozen proxy cuts off; the next attempt hangs
    // (the proxy takes the connection and passes nothing) until connect_timeout_ms.
    amqp: amqpSettings({ port: proxy.port, heartbeat: 1, connect_timeout_ms: 20_000 }),
    name,
    logger,
    watchMs: 50,
  });
  try {
    await client.open();
    proxy.freeze();
    await waitFor(() => !client.connected(), 10_000, "the client to see its connection lost");
    await new Promise((resolve) => setTimeout(resolve, 200)); // the watchdog's attempt is under way

    let started = performance.now();
    const request = client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 1000 });
    assert.equal(await within(request, 5000), "DISCONNECTED");
    assert.ok(performance.now() - started < 200, `failed after ${performance.now() - started} ms`);
    started = performance.now();
    const send = client.send({ template: "cus", op: "create", data: {} });
    assert.equal(await within(send, 5000), "DISCONNECTED");
    assert.ok(performance.now() - started < 200, `failed after ${performance.now() - started} ms`);

    // One that may wait gives up at its own timeout, not the attempt's.
    started = performance.now();
    const waiting = client.request({ template: "cus", op: "read", key: { id: 1 } }, {
      timeoutMs: 500,
      waitForConnection: true,
    });
    assert.equal(await within(waiting, 5000), "DISCONNECTED");
    assert.ok(performance.now() - started < 1500, `gave up after ${performance.now() - started} ms`);

    started = performance.now();
    await client.close();
    assert.ok(performance.now() - started < 500, `close() took ${performance.now() - started} ms`);

    // The attempt completes after close(): the connection it opened is closed at once.
    proxy.thaw();
    await waitFor(
      () => events.includes("amqp client connected after close(): closed again"),
      10_000,
      "the late connection to be closed",
    );
    assert.equal(client.connected(), false);
    assert.equal(await closeAmqpConnections(name), 0, "no connection of the client is left open");
  } finally {
    await client.close();
    proxy.close();
  }
});

Deno.test("a reconnecting client stamps the userId it is given", async () => {
  // RabbitMQ closes the channel of a request whose user_id is not the login's.
  const client = createReconnectingClient({
    amqp: amqpSettings({ exchange: "amq.topic" }),
    name: `beds test user id ${uniqueId()}`,
    userId: "someone-else",
  });
  try {
    await client.open();
    await assert.rejects(
      client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 5000 }),
      (e) => e instanceof BedsClientError && e.kind === "CLOSED" && /user_id/.test(e.message),
    );
  } finally {
    await client.close();
  }
});
