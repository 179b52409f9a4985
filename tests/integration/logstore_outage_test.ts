/**
 * The log store through a database outage: the records of the requests that failed for it (the
 * ones an operator most needs) are kept and written once MariaDB is back, not dropped after a few
 * quick retries.
 */
import assert from "node:assert/strict";
import { createTestEnv, dbQuery, ROOT, startNode, waitFor } from "../helpers/services.ts";
import { storeUnreachable } from "../../src/ipl/logstore.ts";
import { BedsError } from "../../src/errors.ts";
import { BedsClientError } from "../../src/client/mod.ts";

Deno.test("storeUnreachable() tells an unreachable store from a wrong batch", () => {
  assert.equal(storeUnreachable(new BedsError("DB_UNAVAILABLE", "Connection lost")), true);
  assert.equal(storeUnreachable(new BedsError("OVERLOADED", "Queue full")), true);
  assert.equal(storeUnreachable(new BedsClientError("CLOSED", "Connection closed")), true);
  assert.equal(storeUnreachable(new BedsError("DB_ERROR", "Data too long")), false);
  assert.equal(storeUnreachable(new BedsClientError("REFUSED", "Nack")), false);
  assert.equal(storeUnreachable(new Error("anything else")), false);
});

Deno.test("the records of requests that failed while MariaDB was unreachable are written once it is back", async () => {
  const env = await createTestEnv({
    dedicatedDbUser: true,
    extraToml:
      `\n[logstore]\nstore = "mariadb"\ndatabase = "lab"\ntemplates_dir = "${ROOT}/templates/logstore"\n`,
  });
  const node = await startNode(env, "appServer", `lsout-${env.id}`);
  try {
    const client = await env.client();
    assert.ok((await client.request({ template: "prd", op: "read", key: { id: 1 } })).ok);
    await env.dbUser!.lock(true);
    await env.dbUser!.killSessions();
    // Three seconds of reads that fail: well past the log store's max_retries (3, in 0.7 s).
    let failed = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const reply = await client.request({ template: "prd", op: "read", key: { id: 1 } });
      if (!reply.ok && reply.error.code === "DB_UNAVAILABLE") failed++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await env.dbUser!.lock(false);
    assert.ok(failed > 20, `${failed} reads failed DB_UNAVAILABLE`);
    const stored = async () =>
      Number(
        (await dbQuery<Array<{ n: bigint }>>(
          env,
          "SELECT COUNT(*) n FROM ms_logs WHERE kind = 'request' AND code = 'DB_UNAVAILABLE'",
        ))[0]!.n,
      );
    await waitFor(async () => await stored() >= failed, 20_000, `${failed} DB_UNAVAILABLE records`);
  } finally {
    await env.dbUser!.lock(false).catch(() => {});
    await node.stop();
    await env.cleanup();
  }
});
