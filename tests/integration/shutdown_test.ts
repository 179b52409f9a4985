/**
 * Coordinated shutdown loses nothing: SIGTERM on a node process under load,
 * `beds shutdown` of one of two nodes (hot swap), and a node's gateway,
 * which stops with its consumers (tests/integration/http_shutdown_test.ts:
 * neither waits for the other).
 */
import assert from "node:assert/strict";
import type { Reply } from "../../src/protocol/mod.ts";
import { workQueueName } from "../../src/amqp/mod.ts";
import mariadb from "mariadb";
import {
  cli,
  consumerCount,
  createTestEnv,
  dbQuery,
  readyCount,
  ROOT,
  startNode,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { nodeUrls } from "../helpers/http.ts";
import { runLoad } from "../helpers/faults.ts";
import { assertWritesAccounted, FAST_RETRIES, skus } from "../helpers/writes.ts";
import { expectOk } from "../helpers/replies.ts";

Deno.test("SIGTERM under load: in-flight writes finish, the rest wait in the queue, none is lost", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES });
  const instance = `sigterm-${env.id}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/src/main.ts`,
      "run",
      "--node",
      "appServer",
      "--instance",
      instance,
      ...env.cliArgs,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let second: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const queue = workQueueName(env.queuePrefix, "appServer", "wBroker");
    await waitFor(async () => await consumerCount(queue) >= 2, 20_000, "node process consumers");
    const client = await env.client();
    const sku = (i: number) => `SIG-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad<Reply>(
      400,
      25,
      (i) =>
        client.request(
          { template: "prd", op: "create", data: { sku: sku(i), name: `p${i}`, price: "3.00", stock: 1 } },
          { timeoutMs: 60_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 80, 20_000, "load to start");
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, "the node exits 0 after draining");
    assert.ok(done < 400, "the node stopped while requests were still coming");
    // A replacement node takes what was left in the queue.
    second = await startNode(env, "appServer", `replacement-${env.id}`);
    const results = await load;
    assertWritesAccounted(results, await skus(env, "SIG"), sku);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.stderr.cancel().catch(() => {});
    if (second) assert.equal(await second.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("hot swap: `beds shutdown` stops one of two nodes under load and the other carries on", async () => {
  const env = await createTestEnv({ extraToml: FAST_RETRIES });
  const a = await startNode(env, "appServer", `swap-a-${env.id}`);
  const b = await startNode(env, "appServer", `swap-b-${env.id}`);
  let aStopped = false;
  try {
    const client = await env.client();
    const sku = (i: number) => `HOT-${String(i).padStart(4, "0")}`;
    let done = 0;
    const load = runLoad<Reply>(
      400,
      20,
      (i) =>
        client.request(
          { template: "prd", op: "create", data: { sku: sku(i), name: `p${i}`, price: "4.00", stock: 1 } },
          { timeoutMs: 60_000 },
        ),
      (n) => done = n,
    );
    await waitFor(() => done >= 80, 20_000, "load to start");
    const shutdown = await cli(["shutdown", "--node", `swap-a-${env.id}`, ...env.cliArgs]);
    assert.equal(shutdown.code, 0, shutdown.err);
    assert.equal(await a.stop(), 0, "node a exits 0");
    aStopped = true;
    const results = await load;
    assertWritesAccounted(results, await skus(env, "HOT"), sku);
    const nodes = new Set(results.map((r) => (r.reply as Reply).meta.node));
    assert.ok(nodes.has(`swap-a-${env.id}`) && nodes.has(`swap-b-${env.id}`), "both nodes served");
    const late = results.slice(-50).map((r) => (r.reply as Reply).meta.node);
    assert.ok(late.every((n) => n === `swap-b-${env.id}`), "after the shutdown only node b serves");
    const unknown = await cli(["shutdown", "--node", "no-such-node", "--wait", "500", ...env.cliArgs]);
    assert.equal(unknown.code, 3);
    assert.match(unknown.err, /No node "no-such-node" is listening/);
  } finally {
    if (!aStopped) await a.stop();
    assert.equal(await b.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a node with a gateway stops it with its consumers: what it took is answered, nothing waits in a queue", async () => {
  const env = await createTestEnv({
    extraToml: "[nodes.appServer]\ngateway = true\n",
    gateway: { timeout_ms: 6000 },
  });
  const instance = `gwstop-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  const lock = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  let exited: number | undefined;
  try {
    const { gateway } = await nodeUrls(env, instance, { gateway: true });
    await lock.query("LOCK TABLES customers WRITE");
    const read = () =>
      fetch(`${gateway}/v1/cus/read`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: { id: 1 } }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const taken = read(); // in flight when the node is asked to stop
    await waitFor(
      async () =>
        (await dbQuery<{ n: number }[]>(
          env,
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE '%lock%' AND (DB = DATABASE() OR INFO LIKE CONCAT('%', DATABASE(), '%'))",
        ))[0]!.n > 0,
      10_000,
      "the read to wait on the lock",
    );
    const stopping = node.stop().then((code) => exited = code);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Sent while the node stops: refused at once, never left in a queue for its timeout.
    const late = await read().then((r) => r.status, () => "refused");
    assert.ok(late === "refused" || late === 503, `late request: ${late}`);
    assert.equal(exited, undefined, "the node waits for the request it took");
    const unlocked = performance.now();
    await lock.query("UNLOCK TABLES");
    const answer = await taken;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(await stopping, 0);
    assert.ok(performance.now() - unlocked < 4000, "the exit did not wait for a gateway timeout");
    for (const queue of workQueues(env)) assert.equal(await readyCount(queue), 0, queue);
  } finally {
    await lock.end();
    if (exited === undefined) await node.stop();
    await env.cleanup();
  }
});

Deno.test("a write still running when the drain ends is aborted and retried: applied once, never twice", async () => {
  const env = await createTestEnv({ extraToml: `${FAST_RETRIES}\n[node]\ndrain_ms = 1500\n` });
  const node = await startNode(env, "appServer", `abort-a-${env.id}`);
  let restarted: Awaited<ReturnType<typeof startNode>> | undefined;
  const lock = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  let stopping: Promise<number> | undefined;
  const count = async (sql: string) => (await dbQuery<{ n: number }[]>(env, sql))[0]!.n;
  const orders = () => count("SELECT COUNT(*) AS n FROM orders");
  const products = () => count("SELECT COUNT(*) AS n FROM products WHERE sku LIKE 'ABT-%'");
  try {
    const before = await orders();
    // Another transaction holds the order's product row and the TXN's first SKU, past the drain.
    await lock.query("START TRANSACTION");
    await lock.query("SELECT id FROM products WHERE id = 1 FOR UPDATE");
    await lock.query("INSERT INTO products (sku, name, price) VALUES ('ABT-0001', 'held', 1.00)");
    const client = await env.client();
    const order = client.request(
      { template: "ord", op: "create", data: { customer_id: 1, product_id: 1, qty: 1 } },
      { timeoutMs: 60_000 },
    );
    const txn = client.request(
      {
        template: "cat",
        op: "create",
        data: { a_sku: "ABT-0001", a_name: "a", b_sku: "ABT-0002", b_name: "b", price: "2.00", stock: 3 },
      },
      { timeoutMs: 60_000 },
    );
    // Awaited below; a failure before then must not leave them rejecting unheard.
    order.catch(() => {});
    txn.catch(() => {});
    // Seen in the process list (InnoDB's lock tables refresh only when left unread for 0.1 s): the
    // procedures' statements, which run in the env's schema.
    await waitFor(
      async () =>
        await count(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND = 'Execute' " +
            "AND (INFO LIKE 'SELECT price, stock INTO%' OR INFO LIKE 'INSERT INTO products%')",
        ) === 2,
      10_000,
      "both writes to wait on the locks",
    );
    let exited: number | undefined;
    stopping = node.stop().then((code) => exited = code);
    // The locks go only well after the drain (1.5 s): a write left running would then commit.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const exitedFirst = exited;
    await lock.query("ROLLBACK");
    assert.equal(await stopping, 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(
      await orders(),
      before,
      "the order the drain gave back did not commit on the node's way out",
    );
    assert.equal(await products(), 0, "nor did the TXN");
    assert.equal(exitedFirst, 0, "the node exited without waiting for the locks");

    // The retry copies run on the next node, once.
    restarted = await startNode(env, "appServer", `abort-b-${env.id}`);
    expectOk(await order);
    expectOk(await txn);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await orders(), before + 1, "one order");
    assert.equal(await products(), 2, "the TXN's two products, once");
    for (const queue of workQueues(env)) assert.equal(await readyCount(queue), 0, queue);
  } finally {
    await lock.end().catch(() => {});
    await (stopping ?? node.stop());
    if (restarted) assert.equal(await restarted.stop(), 0);
    await env.cleanup();
  }
});
