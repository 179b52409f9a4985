/**
 * The reconnecting client (used by the gateway and the soak) replaces a
 * killed connection by itself: requests in flight fail `CLOSED`, requests
 * made while it is down fail `DISCONNECTED` at once or wait for the
 * reconnect, and later requests go through.
 */
import assert from "node:assert/strict";
import { BedsClientError, createReconnectingClient } from "../../src/client/mod.ts";
import { createTestEnv, startNode, waitFor } from "../helpers/services.ts";
import { closeAmqpConnections } from "../helpers/faults.ts";

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
