/**
 * Back-pressure: with one MariaDB connection and `max_queue = 2`, a burst of
 * requests is answered OVERLOADED at once instead of queueing without bound;
 * reads get the error, writes are retried through the delay queues until
 * they are applied, and the node serves normally once the burst is over.
 */
import assert from "node:assert/strict";
import { createTestEnv, startNode } from "../helpers/services.ts";
import { runLoad } from "../helpers/faults.ts";
import { expectError, expectOk } from "../helpers/replies.ts";
import { assertWritesAccounted, skus } from "../helpers/writes.ts";

/** Many short retry tiers: an OVERLOADED write comes back quickly and often. */
const QUICK_RETRIES = `
[brokers.wBroker]
ops = ["create", "update", "delete"]
bindings = ["create.*", "update.*", "delete.*"]
instances = 2
prefetch = 20
queue_type = "quorum"
retry_delays_ms = [20, 50, 100, 200, 300]
max_attempts = 50
`;

Deno.test("a full database queue answers OVERLOADED at once; writes that meet it are retried until applied", async (t) => {
  const env = await createTestEnv({ extraToml: QUICK_RETRIES, master: { connections: 1, max_queue: 2 } });
  const node = await startNode(env);
  try {
    const client = await env.client();
    const read = () => client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 30_000 });

    await t.step("a fan-out wider than the queue is answered OVERLOADED", async () => {
      // The dashboard runs 24 database calls at once; only 2 may wait.
      const error = expectError(await client.request({ template: "dsh", op: "read" }), "OVERLOADED");
      assert.match(error.message, /Database queue is full; try again later$/);
    });

    await t.step("a burst of reads: some are answered OVERLOADED, none hangs", async () => {
      const results = await runLoad(400, 200, read);
      const codes = new Map<string, number>();
      for (const r of results) {
        assert.ok(r.reply, `read ${r.index} got no reply: ${r.error?.message}`);
        const code = r.reply.ok ? "ok" : r.reply.error.code;
        assert.ok(code === "ok" || code === "OVERLOADED", `read ${r.index}: ${JSON.stringify(r.reply)}`);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      assert.ok((codes.get("OVERLOADED") ?? 0) > 0, `no read was refused: ${JSON.stringify([...codes])}`);
      assert.ok((codes.get("ok") ?? 0) > 0, `no read was served: ${JSON.stringify([...codes])}`);
    });

    await t.step("after the burst every read is served", async () => {
      for (let i = 0; i < 5; i++) assert.equal(expectOk(await read()).id, 1);
    });

    await t.step("writes that meet a full queue are retried and all end applied", async () => {
      const sku = (i: number) => `OVL-${String(i).padStart(4, "0")}`;
      const writes = runLoad(60, 60, (i) =>
        client.request(
          { template: "prd", op: "create", data: { sku: sku(i), name: `o${i}`, price: "1.00", stock: 1 } },
          { timeoutMs: 60_000 },
        ));
      // Reads at the same time keep the queue full while the writes arrive.
      const reads = runLoad(300, 150, read);
      const results = await writes;
      await reads;
      assertWritesAccounted(results, await skus(env, "OVL"), sku);
      const retried = results.filter((r) => /\.r\d+$/.test(r.reply?.meta.event ?? ""));
      assert.ok(retried.length > 0, "some writes met OVERLOADED and were answered by a later attempt");
    });

    await t.step(
      "transactions waiting for a connection are bounded too, and retried until applied",
      async () => {
        // Two transaction connections, two waiters: the rest are refused and retried.
        const sku = (i: number) => `TXO-${String(i).padStart(4, "0")}`;
        const results = await runLoad(12, 12, (i) =>
          client.request({
            template: "cat",
            op: "create",
            data: {
              a_sku: sku(2 * i),
              a_name: "a",
              b_sku: sku(2 * i + 1),
              b_name: "b",
              price: "1.00",
              stock: 1,
            },
          }, { timeoutMs: 60_000 }));
        for (const r of results) {
          assert.equal(r.reply?.ok, true, `txn ${r.index}: ${JSON.stringify(r.reply)}`);
        }
        assert.equal((await skus(env, "TXO")).size, 24);
        assert.ok(
          results.some((r) => /\.r\d+$/.test(r.reply!.meta.event)),
          "some transactions were retried",
        );
      },
    );

    await t.step("after both bursts reads and writes are served at once", async () => {
      expectOk(await read());
      const reply = await client.request({
        template: "prd",
        op: "update",
        key: { id: 1 },
        data: { stock: 7 },
      });
      assert.equal(expectOk(reply).stock, 7);
      assert.doesNotMatch(reply.meta.event, /\.r\d+$/, "answered by its first attempt");
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
