/**
 * `beds templates reload` hears from every node: the fleet is learnt first (as `beds status`
 * does) and each node waited for, so one slow to verify its templates is named, not left out.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { ADMIN_BROADCAST_KEY, adminExchangeName } from "../../src/amqp/mod.ts";
import {
  AMQP_URL,
  cli,
  createTestEnv,
  type RunningNode,
  startNode,
  type TestEnv,
} from "../helpers/services.ts";
import { type SlowProxy, startSlowProxy } from "../helpers/slow_proxy.ts";

/** A copy of the env's config directory whose MariaDB master is reached through `port`. */
async function configThrough(env: TestEnv, port: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_cfg_slow_" });
  for await (const e of Deno.readDir(env.configDir)) {
    if (e.isFile) await Deno.copyFile(`${env.configDir}/${e.name}`, `${dir}/${e.name}`);
  }
  const text = await Deno.readTextFile(`${dir}/env_test.toml`);
  const patched = text.replace(
    /\[databases\.mariadb\.master\]\n/,
    `[databases.mariadb.master]\nport = ${port}\n`,
  );
  assert.notEqual(patched, text, "env_test.toml has a [databases.mariadb.master] table");
  await Deno.writeTextFile(`${dir}/env_test.toml`, patched);
  return dir;
}

/** The proxy to B's database frozen for `ms` from now (a verify that waits on it). */
function freezeFor(proxy: SlowProxy, ms: number): Promise<void> {
  proxy.freeze();
  return new Promise((resolve) => setTimeout(() => resolve(proxy.thaw()), ms));
}

/** Answers reload broadcasts (not status) as node `name`: one started after the status was asked. */
async function lateNode(env: TestEnv, name: string): Promise<() => Promise<void>> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, adminExchangeName(env.config.amqp.exchange), ADMIN_BROADCAST_KEY);
  await ch.consume(queue, (msg) => {
    if (!msg || JSON.parse(msg.content.toString()).command !== "reload") return;
    const reply = { ok: true, data: { ok: true, templates: 1 }, meta: { node: name } };
    ch.sendToQueue(msg.properties.replyTo, Buffer.from(JSON.stringify(reply)), {
      correlationId: msg.properties.correlationId,
    });
  }, { noAck: true });
  return () => conn.close();
}

Deno.test("templates reload waits for every running node and names one that does not answer", async (t) => {
  const env = await createTestEnv();
  const proxy = startSlowProxy({ target: 3306 });
  const dirB = await configThrough(env, proxy.port);
  const A = `fleet-a-${env.id}`;
  const B = `fleet-b-${env.id}`;
  let a: RunningNode | undefined;
  let b: RunningNode | undefined;
  try {
    a = await startNode(env, "appServer", A);
    b = await startNode({ ...env, cliArgs: ["--config", dirB, "--env", "test"] }, "appServer", B);
    const reloaded = (node: string) =>
      new RegExp(`^${node}: reloaded, \\d+ templates, access control off$`, "m");

    await t.step("a node slower than --wait is named, and the exit is 3 (no reply)", async () => {
      const thawed = freezeFor(proxy, 4000);
      const run = await cli(["templates", "reload", "--wait", "1500", ...env.cliArgs]);
      await thawed;
      assert.equal(run.code, 3, run.out + run.err);
      assert.match(run.out, reloaded(A));
      assert.doesNotMatch(run.out, new RegExp(B));
      assert.match(run.err, new RegExp(`^beds: node ${B} did not answer the reload within 1500 ms$`, "m"));
    });

    await t.step("without --wait it waits past a 4 s stall: both nodes reloaded, exit 0", async () => {
      const thawed = freezeFor(proxy, 4000);
      const started = Date.now();
      const run = await cli(["templates", "reload", ...env.cliArgs]);
      await thawed;
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, reloaded(A));
      assert.match(run.out, reloaded(B));
      assert.equal(run.err, "");
      // It waited for B, and no longer than B took (the 60 s bound is not waited out).
      const took = Date.now() - started;
      assert.ok(took >= 3500 && took < 20_000, `took ${took} ms`);
    });

    await t.step("a node that answers the reload only (started meanwhile) is reported too", async () => {
      const late = `fleet-late-${env.id}`;
      const stop = await lateNode(env, late);
      try {
        // B's stall keeps the wait open until the late node's answer is in.
        const thawed = freezeFor(proxy, 1500);
        const run = await cli(["templates", "reload", ...env.cliArgs]);
        await thawed;
        assert.equal(run.code, 0, run.out + run.err);
        assert.match(run.out, new RegExp(`^${late}: reloaded, 1 templates$`, "m"));
        assert.match(run.out, reloaded(A));
        assert.match(run.out, reloaded(B));
        assert.match(run.err, new RegExp(`node ${late} answered the reload but not the status before it`));
      } finally {
        await stop();
      }
    });
  } finally {
    proxy.thaw();
    assert.equal(await a?.stop(), 0);
    assert.equal(await b?.stop(), 0);
    proxy.close();
    await Deno.remove(dirB, { recursive: true });
    await env.cleanup();
  }
});
