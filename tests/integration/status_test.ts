import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { ADMIN_BROADCAST_KEY, adminExchangeName } from "../../src/amqp/mod.ts";
import { sendAdminCommand } from "../../src/client/mod.ts";
import { AMQP_URL, cli, createTestEnv, startNode } from "../helpers/services.ts";

Deno.test("beds status prints one row per node with role, uptime, rate, last error and brokers", async () => {
  const env = await createTestEnv();
  const a = await startNode(env, "appServer", `status-a-${env.id}`);
  const b = await startNode(env, "appServer", `status-b-${env.id}`);
  try {
    const client = await env.client();
    for (let i = 0; i < 20; i++) {
      await client.request({ template: "cus", op: "read", key: { id: 1 + (i % 5) } });
    }
    await client.request({ template: "cus", op: "read", key: { id: 999999 } });
    const run = await cli(["status", ...env.cliArgs]);
    assert.equal(run.code, 0, run.err);
    const lines = run.out.split("\n");
    assert.match(lines[0]!, /^NODE\s+ROLE\s+UPTIME\s+REQ\/S\s+LAST ERROR\s+BROKERS/);
    const rows = lines.filter((l) => l.startsWith("status-"));
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.match(row, /^status-[ab]-\S+\s+appServer\s+\d+s\s+\d+\.\d\s+/);
      assert.match(row, /rBroker 2\/0\/\d+\/\d+, wBroker 2\/0\/0\/0, mBroker 1\/0\/0\/0$/);
    }
    assert.equal(
      rows.filter((r) => /NOT_FOUND \d{4}-/.test(r)).length,
      1,
      "the node that answered NOT_FOUND shows it",
    );
    assert.equal(lines.at(-1), "2 node(s)");
  } finally {
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("admin commands on an exchange no node has started on exit 3 with the reason", async () => {
  const env = await createTestEnv({ emptySchema: true });
  try {
    for (
      const args of [["status"], ["shutdown", "--node", "nobody"], ["templates", "reload", "--wait", "500"]]
    ) {
      const run = await cli([...args, ...env.cliArgs]);
      assert.equal(run.code, 3, `${args.join(" ")}: ${run.err}`);
      assert.match(
        run.err,
        /No node (is|"nobody" is) listening: no exchange ".*\.admin" \(no node has started on it\)/,
      );
    }
  } finally {
    await env.cleanup();
  }
});

Deno.test("admin commands: only the node's own commands run, and no instance name is a topic wildcard", async (t) => {
  const env = await createTestEnv();
  const instance = `own-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  try {
    await t.step("a name Object.prototype has is an unknown command, not a call of it", async () => {
      for (const command of ["constructor", "toString", "hasOwnProperty", "__proto__", "nosuch"]) {
        const [reply] = await sendAdminCommand({
          amqp: env.config.amqp,
          command,
          node: instance,
          waitMs: 5000,
        });
        assert.equal(reply?.ok, false, `${command}: ${JSON.stringify(reply)}`);
        assert.equal(reply?.error?.message, `Unknown admin command "${command}"`);
      }
    });
    await t.step(
      "a node called '#' or 'a.*' does not start (it would take every node's shutdown)",
      async () => {
        for (const name of ["#", "a.*", "web 1", ""]) {
          const run = await cli(["run", "--node", "appServer", "--instance", name, ...env.cliArgs]);
          assert.equal(run.code, 10, `${name}: ${run.out}${run.err}`);
          assert.match(run.err, /is not a name of letters, digits/);
        }
        const shutdown = await cli(["shutdown", "--node", "#", ...env.cliArgs]);
        assert.equal(shutdown.code, 2, shutdown.err);
        const status = await cli(["status", "--json", ...env.cliArgs]);
        assert.match(status.out, new RegExp(`"node": "${instance}"`), "the node still runs");
      },
    );
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("beds status keeps its columns in line whatever a node answers, and prints no control character", async () => {
  const env = await createTestEnv({ emptySchema: true });
  // Nodes of its own making: whatever publishes to the reply queue chooses what the CLI prints.
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const exchange = adminExchangeName(env.config.amqp.exchange);
    await ch.assertExchange(exchange, "topic", { durable: true });
    const { queue } = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(queue, exchange, ADMIN_BROADCAST_KEY);
    const at = "2026-01-02T03:04:05.678Z";
    const status = (node: string, code: string) => ({
      ok: true,
      meta: { node },
      data: {
        node,
        role: "appServer",
        uptimeMs: 5000,
        brokers: [{
          broker: "rBroker",
          consumers: 2,
          inflight: 0,
          requests: 9,
          errors: 1,
          lastError: { code, at },
        }],
      },
    });
    const answers = [
      status("plain-node", "NOT_FOUND"),
      status("a-node-whose-instance-id-is-longer-than-its-column", "UNKNOWN_TEMPLATE"),
      status("evil\x1b[2J\x1b]0;owned\x07node", "OP_NOT_ALLOWED\x1b[31m"),
      {
        ok: false,
        meta: { node: "liar\x1b[1A" },
        error: { code: "FORBIDDEN", message: "no\r\x1b[2Kcleared" },
      },
    ];
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      for (const answer of answers) {
        ch.sendToQueue(msg.properties.replyTo, Buffer.from(JSON.stringify(answer)), {
          correlationId: msg.properties.correlationId,
        });
      }
    }, { noAck: true });

    const run = await cli(["status", "--wait", "1000", ...env.cliArgs]);
    assert.equal(run.code, 1, run.err);
    const lines = run.out.split("\n");
    // deno-lint-ignore no-control-regex -- what must not reach the terminal
    const control = /[\u0000-\u001f\u007f-\u009f]/;
    for (const line of [...lines, ...run.err.split("\n")]) {
      assert.ok(!control.test(line), JSON.stringify(line));
    }
    assert.equal(run.err, "beds: node liar\\x1b[1A refused: FORBIDDEN no\\x0d\\x1b[2Kcleared");
    const [header, ...rows] = lines.slice(0, -1);
    assert.equal(rows.length, 3, run.out);
    assert.equal(lines.at(-1), "3 node(s), 1 refused");
    const column = (line: string, name: string) => line.indexOf(name);
    for (const row of rows) {
      assert.equal(column(row, "rBroker 2/0/9/1"), column(header!, "BROKERS"), `${header}\n${row}`);
      assert.equal(column(row, "appServer"), column(header!, "ROLE"), `${header}\n${row}`);
    }
    assert.ok(rows.some((r) => r.includes(`UNKNOWN_TEMPLATE ${at} `)), run.out);
    assert.ok(rows.some((r) => r.startsWith("evil\\x1b[2J\\x1b]0;owned\\x07node ")), run.out);
  } finally {
    await conn.close();
    await env.cleanup();
  }
});
