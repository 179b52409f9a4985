/**
 * Nothing lost: the node keeps serving through a killed AMQP connection and
 * killed MariaDB sessions, and every request is answered or dead-lettered.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { adminQueueName } from "../../src/amqp/mod.ts";
import { AMQP_URL, createTestEnv, startNode, waitFor } from "../helpers/services.ts";
import { assertWritesAccounted, FAST_RETRIES, skus } from "../helpers/writes.ts";
import { closeAmqpConnections, runLoad } from "../helpers/faults.ts";

Deno.test("a node survives its AMQP connection being killed mid-load", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES });
  const instance = `amqpkill-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  try {
    const client = await env.client();
    const sku = (i: number) => `AMQ-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad(
      300,
      15,
      (i) =>
        client.request(
          i % 3 === 0 ? { template: "prd", op: "read", key: { id: 1 } } : {
            template: "prd",
            op: "create",
            data: { sku: sku(i), name: `p${i}`, price: "1.00", stock: 1 },
          },
          { timeoutMs: 30_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 60, 20_000, "load to start");
    assert.equal(await closeAmqpConnections(`beds appServer ${instance}`), 1);
    const results = await load;
    const writes = results.filter((r) => r.index % 3 !== 0);
    const reads = results.filter((r) => r.index % 3 === 0);
    for (const r of reads) assert.equal(r.reply?.ok, true, `read ${r.index}: ${r.error?.message}`);
    assertWritesAccounted(writes, await skus(env, "AMQ"), sku);
    // And the node carries on after the reconnect.
    const after = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(after.ok, true);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("MariaDB sessions killed mid-load: reads get DB_UNAVAILABLE, writes are retried, nothing is lost", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES, dedicatedDbUser: true });
  const dbUser = env.dbUser!;
  const node = await startNode(env);
  try {
    const client = await env.client();
    const sku = (i: number) => `DBK-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad(
      300,
      15,
      (i) =>
        client.request(
          i % 3 === 0 ? { template: "prd", op: "read", key: { id: 2 } } : {
            template: "prd",
            op: "create",
            data: { sku: sku(i), name: `p${i}`, price: "2.50", stock: 3 },
          },
          { timeoutMs: 30_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 50, 20_000, "load to start");
    assert.ok(await dbUser.killSessions() >= 1, "the node's MariaDB sessions were found and killed");
    await waitFor(() => done >= 150, 20_000, "load to go on");
    await dbUser.killSessions();
    const results = await load;
    const reads = results.filter((r) => r.index % 3 === 0);
    for (const r of reads) {
      assert.ok(r.reply, `read ${r.index} got no reply`);
      if (!r.reply.ok) assert.equal(r.reply.error.code, "DB_UNAVAILABLE");
    }
    assertWritesAccounted(results.filter((r) => r.index % 3 !== 0), await skus(env, "DBK"), sku);
    // The last kill may have come just before the load ended: the connections re-open with backoff.
    let after = await client.request({ template: "prd", op: "read", key: { id: 2 } });
    for (const until = Date.now() + 10_000; !after.ok && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      after = await client.request({ template: "prd", op: "read", key: { id: 2 } });
    }
    assert.equal(after.ok, true, `the pool recovered without a restart: ${JSON.stringify(after)}`);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a reconnect whose admin queue is refused takes no deliveries: no write runs until the setup succeeds", async () => {
  // Slow to reconnect, so the test can take the node's exclusive admin queue in between, as a
  // connection of the same instance the server had not dropped yet would hold it.
  const env = await createTestEnv({ amqp: { reconnect_initial_ms: 4000, reconnect_max_ms: 4000 } });
  const instance = `adminlock-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  const holder = await amqp.connect(AMQP_URL);
  let held = true;
  try {
    assert.equal(await closeAmqpConnections(`beds appServer ${instance}`), 1);
    const ch = await holder.createChannel();
    await ch.assertQueue(adminQueueName(env.config.amqp.queue_prefix, instance), {
      exclusive: true,
      autoDelete: true,
      durable: false,
    });
    const client = await env.client();
    const sku = (i: number) => `LCK-${String(i).padStart(4, "0")}`;
    for (let i = 0; i < 3; i++) {
      await client.send({
        template: "prd",
        op: "create",
        data: { sku: sku(i), name: `p${i}`, price: "1.00", stock: 1 },
      });
    }
    // Two reconnect attempts fail on the admin queue meanwhile; no consumer may take a write.
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    assert.equal((await skus(env, "LCK")).size, 0, "no write ran while the setup failed");
    await holder.close();
    held = false;
    await waitFor(
      async () => (await skus(env, "LCK")).size === 3,
      20_000,
      "the writes, once the node is back",
    );
  } finally {
    if (held) await holder.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
