/**
 * SIGTERM while RabbitMQ blocks the node's connection (a resource alarm, played by the block proxy:
 * RabbitMQ then reads nothing from the node, a consumer's cancel and a channel's close included).
 * The drain still ends at `drain_ms`, the write it overran is aborted there, what RabbitMQ delivers
 * after the signal is not run, and the node exits within a few seconds more; each write is applied
 * once, by the node that takes it next.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { BedsClient } from "../../src/client/mod.ts";
import {
  consumerCount,
  createTestEnv,
  dbQuery,
  readyCount,
  ROOT,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { startBlockingProxy } from "../helpers/amqp_block_proxy.ts";
import { expectOk } from "../helpers/replies.ts";
import { fastRetries } from "../helpers/writes.ts";

const DRAIN_MS = 1500;
/**
 * One consumer for writes: the one still draining the write on the lock takes the write delivered
 * after SIGTERM (a consumer with nothing in flight closes its channel at once, and amqplib drops
 * what comes to a closing channel).
 */
const ONE_WRITER = fastRetries(1);
/** The drain, the 3 s the aborted write may take to settle, and a margin for a loaded machine. */
const EXIT_BOUND_MS = DRAIN_MS + 3000 + 4000;

/** `beds run` of the env's appServer as a process of its own (SIGTERM, and SIGKILL if it hangs). */
function spawnNode(args: string[], environ: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--node", "appServer", ...args],
    env: environ,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function kill(child: Deno.ChildProcess | undefined, signal: Deno.Signal): void {
  try {
    child?.kill(signal);
  } catch { /* already exited */ }
}

Deno.test("SIGTERM while RabbitMQ blocks the connection: the drain ends at drain_ms, the overdue write is aborted, the node exits", async () => {
  const proxy = startBlockingProxy();
  // Heartbeats off: nothing but the node's own deadlines can end a wait for RabbitMQ.
  const env = await createTestEnv({
    amqp: { port: proxy.port, heartbeat: 0 },
    extraToml: `${ONE_WRITER}\n[node]\ndrain_ms = ${DRAIN_MS}\n`,
  });
  const node = spawnNode(["--instance", `blocked-${env.id}`, ...env.cliArgs]);
  let next: Deno.ChildProcess | undefined;
  const lock = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  // The test's client goes to RabbitMQ directly: the proxy blocks every connection through it.
  const client = await BedsClient.connect({ amqp: { ...env.config.amqp, port: 5672 }, timeoutMs: 60_000 });
  const count = async (sql: string) => (await dbQuery<{ n: number }[]>(env, sql))[0]!.n;
  const orders = () => count("SELECT COUNT(*) AS n FROM orders");
  const waiting = () =>
    count(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND = 'Execute' " +
        "AND INFO LIKE 'SELECT price, stock INTO%'",
    );
  try {
    for (const queue of workQueues(env)) {
      await waitFor(async () => await consumerCount(queue) > 0, 20_000, `consumers on ${queue}`);
    }
    const before = await orders();
    // Another transaction holds the order's product row, well past the drain.
    await lock.query("START TRANSACTION");
    await lock.query("SELECT id FROM products WHERE id = 1 FOR UPDATE");
    const order = client.request({
      template: "ord",
      op: "create",
      data: { customer_id: 1, product_id: 1, qty: 1 },
    });
    order.catch(() => {}); // awaited below; a failure before then must not go unheard
    await waitFor(async () => await waiting() === 1, 10_000, "the write to wait on the lock");

    await proxy.block();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = performance.now();
    node.kill("SIGTERM");
    const exit = node.status.then((status) => ({ code: status.code, ms: performance.now() - signalled }));
    // Delivered to the stopping node, whose cancel RabbitMQ has not read: not run. Run, it would
    // commit, its ack never read, and the next node would run it again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const email = `late-${env.id}@example.com`;
    const late = client.request({ template: "cus", op: "create", data: { email, name: "Late" } });
    late.catch(() => {});
    const customers = () => count(`SELECT COUNT(*) AS n FROM customers WHERE email = '${email}'`);

    await waitFor(async () => await waiting() === 0, DRAIN_MS + 4000, "the write's statement to be aborted");
    const abortedMs = performance.now() - signalled;
    assert.ok(
      abortedMs > DRAIN_MS - 300 && abortedMs < DRAIN_MS + 2000,
      `aborted ${Math.round(abortedMs)} ms after SIGTERM (drain_ms ${DRAIN_MS})`,
    );
    const exited = await Promise.race([
      exit,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_BOUND_MS)),
    ]);
    assert.ok(exited, `still running ${EXIT_BOUND_MS} ms after SIGTERM`);
    assert.equal(exited.code, 0, "exit code");
    console.log(
      `exited ${Math.round(exited.ms)} ms after SIGTERM, the write aborted after ${Math.round(abortedMs)} ms`,
    );

    await lock.query("ROLLBACK");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await orders(), before, "the aborted write did not commit once its lock was released");
    assert.equal(await customers(), 0, "the write delivered after SIGTERM did not run");

    // RabbitMQ learns the node is gone (here: the proxy closes) and gives its unacked delivery back.
    proxy.close();
    next = spawnNode(["--instance", `next-${env.id}`, ...env.cliArgs], {
      BEDS_AMQP_URL: "amqp://guest:guest@127.0.0.1:5672",
    });
    expectOk(await order);
    expectOk(await late);
    // Long enough for any second copy of a write to have come through the retry tiers.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await orders(), before + 1, "the order was applied once");
    assert.equal(await customers(), 1, "the late write was applied once");
    for (const queue of workQueues(env)) assert.equal(await readyCount(queue), 0, queue);
  } finally {
    kill(node, "SIGKILL");
    await node.status;
    await lock.end().catch(() => {});
    proxy.close();
    kill(next, "SIGTERM");
    if (next) assert.equal((await next.status).code, 0, "the next node exits 0");
    await client.close();
    await env.cleanup();
  }
});
