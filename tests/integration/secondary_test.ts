/** Reads go to the MariaDB secondary when one is configured; writes stay on the master. */
import assert from "node:assert/strict";
import { createTestEnv, startNode } from "../helpers/services.ts";

const SECONDARY = `
[databases.mariadb.secondary]
host = "127.0.0.1"
user = "root"
password = ""
connections = 2
`;

Deno.test("reads are served by the secondary while the master account is locked out", async () => {
  // The master uses the node's own account; the secondary (same server here) logs in as root.
  const env = await createTestEnv({ extraToml: SECONDARY, dedicatedDbUser: true });
  const node = await startNode(env);
  try {
    const client = await env.client();
    const before = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(before.ok, true);
    await env.dbUser!.lock(true);
    await env.dbUser!.killSessions();
    const read = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(read.ok, true, `read through the secondary: ${JSON.stringify(read)}`);
    const list = await client.request({ template: "prd", op: "read", where: { id: [1, 2] } });
    assert.equal(list.ok, true);
    const write = await client.request(
      { template: "cus", op: "create", data: { email: "master.only@example.com", name: "Master Only" } },
      { timeoutMs: 500 },
    );
    assert.equal(!write.ok && write.error.code, "DB_UNAVAILABLE", "writes need the master");
  } finally {
    await env.dbUser!.lock(false).catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
