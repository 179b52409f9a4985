/**
 * A REL fan-out whose required part fails is answered at once, not when its slowest part ends;
 * the parts that ran on are recorded with it all the same, once they end.
 */
import assert from "node:assert/strict";
import { templatesWith } from "../helpers/files.ts";
import { expectError } from "../helpers/replies.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";

const SLOW_S = 3;

const TEMPLATES = {
  "slw_rec.toml": `[template]
name = "slw"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[calls.wait]
procedure = "sp_slw_wait"
params = ["id"]
`,
  "xfo_rel.toml": `[template]
name = "xfo"
kind = "rel"

[fields.id]
type = "int"
min = 1

[input]
key = ["id"]

[parts.customer]
template = "cus"
key = { id = "$key.id" }

[parts.slow]
template = "slw"
op = "call"
call = "wait"
key = { id = "$key.id" }
`,
};

Deno.test("a REL whose required part fails is answered before its slow part ends, which is still recorded on shutdown", async () => {
  const dir = await templatesWith(ROOT, TEMPLATES);
  const env = await createTestEnv({
    templatesDir: dir,
    extraToml: `
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
flush_ms = 50
`,
  });
  await dbQuery(
    env,
    `CREATE PROCEDURE sp_slw_wait(IN p_id INT) BEGIN DO SLEEP(${SLOW_S}); SELECT p_id AS id; END`,
  );
  const node = await startNode(env, "appServer", `rel-fail-${env.id}`);
  let stopped = false;
  try {
    const client = await env.client();
    const t0 = performance.now();
    // No customer 999999: "customer" fails at once, while "slow" sleeps.
    const reply = await client.request({ template: "xfo", op: "read", key: { id: 999999 } });
    const ms = performance.now() - t0;
    expectError(reply, "NOT_FOUND");
    assert.ok(ms < SLOW_S * 1000 / 2, `answered after ${Math.round(ms)} ms`);
    const parent = reply.meta.event;
    // A shutdown now drains the slow part as a delivery in flight, and the log store gets it.
    assert.equal(await node.stop(), 0);
    stopped = true;
    const chain = await cli(["logs", "chain", parent, "--json", ...env.cliArgs]);
    assert.equal(chain.code, 0, chain.err);
    const records = chain.out.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    const byEvent = new Map(records.map((r) => [r.event, r]));
    assert.equal(byEvent.get(parent)?.code, "NOT_FOUND", chain.out);
    assert.equal(byEvent.get(`${parent}.1`)?.code, "NOT_FOUND", chain.out);
    const slow = byEvent.get(`${parent}.2`);
    assert.equal(slow?.template, "slw", chain.out);
    assert.equal(slow?.code, null, chain.out);
    assert.ok(slow.ms >= SLOW_S * 1000 - 100, chain.out);
  } finally {
    if (!stopped) await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failing fan-outs hold their deliveries until their parts end: prefetch bounds what runs, other requests keep their answers", async () => {
  const dir = await templatesWith(ROOT, TEMPLATES);
  // One connection, and a statement older than 2.5 s closes it with every statement queued on it.
  const env = await createTestEnv({
    templatesDir: dir,
    master: { connections: 1, query_timeout_ms: 2500 },
    extraToml: `
[brokers.rBroker]
instances = 1
prefetch = 2
`,
  });
  await dbQuery(env, `CREATE PROCEDURE sp_slw_wait(IN p_id INT) BEGIN DO SLEEP(1); SELECT p_id AS id; END`);
  const node = await startNode(env, "appServer", `rel-burst-${env.id}`);
  try {
    const client = await env.client();
    // Answered at once, each leaves a 1 s part running: acked at once, eight of them would queue
    // 8 s of statements on the one connection and time it out, unrelated requests with it.
    const burst = Array.from(
      { length: 8 },
      () => client.request({ template: "xfo", op: "read", key: { id: 999999 } }, { timeoutMs: 20_000 }),
    );
    const unrelated = client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 20_000 });
    for (const reply of await Promise.all(burst)) expectError(reply, "NOT_FOUND");
    const read = await unrelated;
    assert.equal(read.ok, true, JSON.stringify(read));
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
