import assert from "node:assert/strict";
import { createTestEnv, startNode } from "../helpers/services.ts";

Deno.test("a node serves CRUD on the lab templates through RabbitMQ", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env);
  try {
    const client = await env.client();
    await t.step("read by key returns one row", async () => {
      const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
      assert.equal(reply.ok, true);
      assert.equal((reply as { data: { email: string } }).data.email, "ana.garcia@example.com");
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
