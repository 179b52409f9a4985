/**
 * A signal while a node starts stops it before its next IPL step: the steps
 * that ran are undone and no consumer ever starts, so no request is taken by
 * a node already told to stop. (Before, the IPL ran to its end, the node
 * became resident, consumed what waited, and only then drained.)
 */
import assert from "node:assert/strict";
import { runCli } from "../../src/cli/mod.ts";
import { cli, consumerCount, createTestEnv, readyCount, workQueues } from "../helpers/services.ts";

/** A TCP port that accepts connections and never answers: a MongoDB that waits out its timeout. */
function silentServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const conn of held) conn.close();
    },
  };
}

Deno.test("SIGTERM during start-up stops the node before its next step: no consumer ever starts", async () => {
  const mongo = silentServer();
  const env = await createTestEnv({
    extraToml:
      `\n[databases.mongodb]\nurl = "mongodb://127.0.0.1:${mongo.port}"\noptional = true\nconnect_timeout_ms = 2000\n`,
  });
  const stop = new AbortController();
  const err: string[] = [];
  let consumersSeen = 0;
  try {
    // Requests that wait for the node: `check` declares its queues, then a client sends three reads.
    assert.equal((await cli(["check", ...env.cliArgs])).code, 0);
    const client = await env.client();
    for (const id of [1, 2, 3]) await client.send({ template: "cus", op: "read", key: { id } });
    const [reads] = workQueues(env).filter((queue) => queue.endsWith("rBroker"));
    assert.ok(reads);
    assert.equal(await readyCount(reads), 3);
    const started = performance.now();
    const done = runCli(["run", "--node", "appServer", ...env.cliArgs], {
      out: () => {},
      err: (line) => err.push(line),
      environ: {},
      signal: stop.signal,
    });
    // db_pools waits up to 2 s for the silent MongoDB: the signal comes while it does.
    setTimeout(() => stop.abort(), 700);
    let finished = false;
    done.finally(() => finished = true);
    while (!finished) {
      for (const queue of workQueues(env)) consumersSeen += await consumerCount(queue);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await done, 0, err.join("\n"));
    assert.equal(consumersSeen, 0, "no consumer started");
    assert.equal(await readyCount(reads), 3, "the requests still wait");
    assert.ok(performance.now() - started < 10_000);
    assert.match(err.join("\n"), /stopped before/);
  } finally {
    mongo.close();
    await env.cleanup();
  }
});
