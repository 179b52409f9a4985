/**
 * A client that sends half a request body and stalls cannot hold a node's shutdown: the health
 * listener and the gateway close within their bounds, and a role that embeds the gateway stops
 * consuming when the shutdown begins, not once its gateway has closed. Each node runs as a child
 * process, so that one that hangs can be killed.
 */
import assert from "node:assert/strict";
import { BedsClientError } from "../../src/client/mod.ts";
import {
  consumerCount,
  createTestEnv,
  ROOT,
  type TestEnv,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { type NodeUrls, nodeUrls } from "../helpers/http.ts";

/** Well past what a bounded shutdown with the drains below takes; an unbounded one never ends. */
const EXIT_LIMIT_MS = 15_000;

/** Starts `beds run` as a child and waits until it is ready; returns its URLs and the child. */
async function spawnNode(env: TestEnv, role: string, instance: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--node", role, "--instance", instance, ...env.cliArgs],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const urls = await nodeUrls(env, instance, { gateway: env.config.nodes[role]!.gateway });
    await waitFor(
      () => fetch(`${urls.http}/ready`).then((r) => (r.body?.cancel(), r.status === 200), () => false),
      15_000,
      `node ${instance} ready`,
    );
    return { child, urls };
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  }
}

/** A connection that sent a POST's headers and 7 of its 100 body bytes, and then nothing. */
async function halfSentBody(url: string): Promise<Deno.Conn> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(
    `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\ncontent-type: application/json\r\n` +
      `content-length: 100\r\n\r\n{"key":`,
  ));
  return conn;
}

/** The child's exit code, or undefined when it still runs after `ms`. */
async function exitWithin(child: Deno.ChildProcess, ms: number): Promise<number | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
  ]);
  clearTimeout(timer);
  return status?.code;
}

/** Ends a child the test left running (a shutdown that hung), so that nothing outlives the test. */
async function reap(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  await child.status;
}

/**
 * Starts `role` in `env`, leaves a half-sent body at the URL `at` picks from its URLs, and asserts
 * that SIGTERM still ends the node (exit 0) within {@link EXIT_LIMIT_MS}; cleans `env` up.
 */
async function assertHalfSentBodyHoldsNoShutdown(
  env: TestEnv,
  role: string,
  instance: string,
  at: (urls: NodeUrls) => string,
): Promise<void> {
  const { child, urls } = await spawnNode(env, role, instance);
  const conn = await halfSentBody(at(urls));
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGTERM");
    assert.equal(await exitWithin(child, EXIT_LIMIT_MS), 0, `exit 0 within ${EXIT_LIMIT_MS} ms`);
  } finally {
    conn.close();
    await reap(child);
    await env.cleanup();
  }
}

Deno.test("a half-sent body to the health listener does not hold the shutdown", async () => {
  const env = await createTestEnv({ extraToml: "[node]\ndrain_ms = 2000\n" });
  await assertHalfSentBodyHoldsNoShutdown(
    env,
    "appServer",
    `halfhttp-${env.id}`,
    (urls) => `${urls.http}/live`,
  );
});

Deno.test("a half-sent body to the gateway does not hold the shutdown past the drain", async () => {
  // The gateway would give up on the body only after its timeout, far past the drain.
  const env = await createTestEnv({
    extraToml: "[node]\ndrain_ms = 2000\n",
    gateway: { timeout_ms: 120_000 },
  });
  await assertHalfSentBodyHoldsNoShutdown(
    env,
    "gateway",
    `halfgw-${env.id}`,
    (urls) => `${urls.gateway}/v1/cus/read`,
  );
});

Deno.test("a role with an embedded gateway takes no request once its shutdown begins", async () => {
  const env = await createTestEnv({
    extraToml: "[node]\ndrain_ms = 8000\n[nodes.appServer]\ngateway = true\n",
    gateway: { timeout_ms: 120_000 },
  });
  const instance = `halfemb-${env.id}`;
  const { child, urls } = await spawnNode(env, "appServer", instance);
  // The gateway's drain lasts all of drain_ms: the request it took never gets its body.
  const conn = await halfSentBody(`${urls.gateway}/v1/cus/read`);
  try {
    const client = await env.client();
    assert.equal((await client.request({ template: "cus", op: "read", key: { id: 1 } })).ok, true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const late = await client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 2500 })
      .then((reply) => `answered by ${reply.meta.node}`, (error) => error);
    assert.ok(
      late instanceof BedsClientError && late.kind === "TIMEOUT",
      `a request sent after SIGTERM waits in the queue: ${late}`,
    );
    for (const queue of workQueues(env)) {
      assert.equal(await consumerCount(queue), 0, `no consumer on ${queue}`);
    }

    const refused = await fetch(`${urls.gateway}/v1/cus/read`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: { id: 1 } }),
    }).then(async (r) => ({ status: r.status, code: (await r.json()).error?.code }), (e) => String(e));
    assert.deepEqual(
      refused,
      { status: 503, code: "OVERLOADED" },
      "the gateway refuses new requests meanwhile",
    );

    assert.equal(await exitWithin(child, EXIT_LIMIT_MS), 0, `exit 0 within ${EXIT_LIMIT_MS} ms`);
  } finally {
    conn.close();
    await reap(child);
    await env.cleanup();
  }
});
