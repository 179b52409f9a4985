/**
 * Access control with real RabbitMQ users: each request runs as the
 * RabbitMQ-validated `user_id` of its publisher, grants decide what it may
 * do, and only admin users may command a node.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { adminExchangeName, adminNodeKey, deadLetterQueueName, workQueueName } from "../../src/amqp/mod.ts";
import type { DeadLetter } from "../../src/brokers/mod.ts";
import { BedsClient, sendAdminCommand } from "../../src/client/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import {
  cli,
  createTestEnv,
  dbQuery,
  readyCount,
  ROOT,
  startNode,
  type TestEnv,
  waitFor,
} from "../helpers/services.ts";
import {
  type AmqpPermissions,
  type AmqpTestUser,
  clientPermissions,
  createAmqpUser,
} from "../helpers/amqp_users.ts";

function accessToml(a: string, b: string, nodeGrants: readonly string[] = []): string {
  return `
[access]
enabled = true
admin_users = ["guest"]
${nodeGrants.length ? `\n[access.users.guest]\nallow = ${JSON.stringify(nodeGrants)}\n` : ""}
[access.users.${a}]
allow = ["read.*"]

[access.users.${b}]
allow = ["create.cus"]

[brokers.wBroker]
ops = ["create", "update", "delete"]
bindings = ["create.*", "update.*", "delete.*"]
instances = 1
retry_delays_ms = [300, 600, 1200, 2400, 4800]
max_attempts = 6
`;
}

/** The node's instance name, so admin commands go to it alone and return on its reply. */
const NODE = `access-${crypto.randomUUID().slice(0, 8)}`;

function code(reply: Reply): string | undefined {
  return reply.ok ? undefined : reply.error.code;
}

async function dlq(env: TestEnv): Promise<DeadLetter[]> {
  const run = await cli(["dlq", "list", "--json", "--role", "appServer", ...env.cliArgs]);
  assert.equal(run.code, 0, run.err);
  return JSON.parse(run.out) as DeadLetter[];
}

async function wBrokerRequests(env: TestEnv): Promise<number> {
  const [reply] = await sendAdminCommand({
    amqp: env.config.amqp,
    command: "status",
    node: NODE,
    waitMs: 5000,
  });
  const brokers = (reply?.data as { brokers: Array<{ broker: string; requests: number }> }).brokers;
  return brokers.find((b) => b.broker === "wBroker")!.requests;
}

/** Two RabbitMQ users, a node that grants A read.* and B create.cus, and their clients. */
async function withUsers(
  fn: (
    ctx: { env: TestEnv; a: AmqpTestUser; b: AmqpTestUser; clientA: BedsClient; clientB: BedsClient },
  ) => Promise<void>,
  options: { dedicatedDbUser?: boolean; nodeGrants?: readonly string[]; permissionsB?: AmqpPermissions } = {},
): Promise<void> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [nameA, nameB] = [`beds_a_${suffix}`, `beds_b_${suffix}`];
  const { nodeGrants, permissionsB, ...envOptions } = options;
  const env = await createTestEnv({ extraToml: accessToml(nameA, nameB, nodeGrants), ...envOptions });
  const users: AmqpTestUser[] = [];
  const clients: BedsClient[] = [];
  try {
    const made = await Promise.allSettled([
      createAmqpUser(nameA, `pw-a-${suffix}`, clientPermissions(env.exchange)),
      createAmqpUser(nameB, `pw-b-${suffix}`, permissionsB ?? clientPermissions(env.exchange)),
    ]);
    for (const m of made) if (m.status === "fulfilled") users.push(m.value);
    for (const m of made) if (m.status === "rejected") throw m.reason;
    const [a, b] = users as [AmqpTestUser, AmqpTestUser];
    const node = await startNode(env, "appServer", NODE);
    try {
      const clientA = await BedsClient.connect({ amqp: a.amqp(env.config.amqp), timeoutMs: 10_000 });
      clients.push(clientA);
      const clientB = await BedsClient.connect({ amqp: b.amqp(env.config.amqp), timeoutMs: 30_000 });
      clients.push(clientB);
      await fn({ env, a, b, clientA, clientB });
    } finally {
      for (const client of clients) await client.close();
      assert.equal(await node.stop(), 0);
    }
  } finally {
    await Promise.all(users.map((user) => user.drop()));
    await env.cleanup();
  }
}

/**
 * C, a user who may write to the default exchange, and so into any queue, dead-letter queues
 * included, connected. The caller closes `conn` and drops `c`.
 */
async function planter() {
  const suffix = crypto.randomUUID().slice(0, 8);
  const c = await createAmqpUser(`beds_c_${suffix}`, `pw-c-${suffix}`, {
    configure: "^$",
    write: "^amq\\.default$",
    read: "^$",
  });
  const conn = await amqp.connect({ hostname: "127.0.0.1", username: c.user, password: c.password });
  conn.on("error", () => {});
  return { suffix, c, conn };
}

Deno.test("requests run as their RabbitMQ user: grants allow, everything else is FORBIDDEN", async (t) => {
  await withUsers(async ({ env, a, b, clientA, clientB }) => {
    await t.step("A (read.*) reads", async () => {
      const reply = await clientA.request({ template: "cus", op: "read", key: { id: 1 } });
      assert.equal(reply.ok, true, JSON.stringify(reply));
    });
    await t.step("A (read.*) is FORBIDDEN to create", async () => {
      const reply = await clientA.request({
        template: "cus",
        op: "create",
        data: { email: "a.forbidden@example.com", name: "A" },
      });
      assert.equal(code(reply), "FORBIDDEN");
      assert.match(!reply.ok ? reply.error.message : "", new RegExp(`User "${a.user}" may not create`));
    });
    await t.step("B (create.cus) creates", async () => {
      const reply = await clientB.request({
        template: "cus",
        op: "create",
        data: { email: "b.allowed@example.com", name: "B" },
      });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      const rows = await dbQuery(env, "SELECT name FROM customers WHERE email = ?", [
        "b.allowed@example.com",
      ]);
      assert.equal(rows.length, 1);
    });
    await t.step("B (create.cus) is FORBIDDEN to read, and to create other templates", async () => {
      assert.equal(code(await clientB.request({ template: "cus", op: "read", key: { id: 1 } })), "FORBIDDEN");
      assert.equal(
        code(await clientB.request({ template: "prd", op: "create", data: { sku: "X", name: "x" } })),
        "FORBIDDEN",
      );
    });
    await t.step("a request without user_id is FORBIDDEN", async () => {
      const anonymous = await BedsClient.connect({ amqp: b.amqp(env.config.amqp), userId: false });
      try {
        const reply = await anonymous.request({
          template: "cus",
          op: "create",
          data: { email: "anon@example.com", name: "Anon" },
        });
        assert.equal(code(reply), "FORBIDDEN");
        assert.match(!reply.ok ? reply.error.message : "", /no user_id/);
      } finally {
        await anonymous.close();
      }
    });
    await t.step("A cannot claim B's rights with BEDS's requester header", async () => {
      const conn = await amqp.connect({ hostname: "127.0.0.1", username: a.user, password: a.password });
      try {
        const ch = await conn.createChannel();
        const reply = new Promise<Reply>((resolve) => {
          ch.consume("amq.rabbitmq.reply-to", (msg) => msg && resolve(JSON.parse(msg.content.toString())), {
            noAck: true,
          });
        });
        await new Promise((r) => setTimeout(r, 100));
        const body = { template: "cus", op: "create", data: { email: "a.spoof@example.com", name: "A" } };
        ch.publish(env.exchange, "create.cus", Buffer.from(JSON.stringify(body)), {
          replyTo: "amq.rabbitmq.reply-to",
          userId: a.user,
          headers: { "x-beds-user": b.user },
        });
        assert.equal(code(await reply), "FORBIDDEN");
      } finally {
        await conn.close();
      }
    });
    await t.step(
      "a message published by A with user_id B is refused by RabbitMQ; BEDS never sees it",
      async () => {
        const before = await wBrokerRequests(env);
        const conn = await amqp.connect({ hostname: "127.0.0.1", username: a.user, password: a.password });
        conn.on("error", () => {});
        try {
          const ch = await conn.createConfirmChannel();
          const closed = new Promise<string>((resolve) => ch.on("error", (e: Error) => resolve(e.message)));
          const body = { template: "cus", op: "create", data: { email: "forged@example.com", name: "F" } };
          ch.publish(env.exchange, "create.cus", Buffer.from(JSON.stringify(body)), { userId: b.user });
          assert.match(
            await closed,
            /406 \(PRECONDITION-FAILED\).*user_id property set to '.*' but authenticated user was/,
          );
        } finally {
          await conn.close().catch(() => {});
        }
        // A later legitimate write is served, so the queue was drained past where the forged one would be.
        const ok = await clientB.request({
          template: "cus",
          op: "create",
          data: { email: "after.forged@example.com", name: "B" },
        });
        assert.equal(ok.ok, true);
        assert.equal(await wBrokerRequests(env), before + 1, "the node counted only B's request");
        const forged = await dbQuery(env, "SELECT id FROM customers WHERE email = ?", ["forged@example.com"]);
        assert.equal(forged.length, 0);
      },
    );
    await t.step("a fire-and-forget FORBIDDEN write is kept in the DLQ with its requester", async () => {
      await clientA.send({
        template: "cus",
        op: "create",
        data: { email: "a.batch@example.com", name: "A" },
      });
      let letters: DeadLetter[] = [];
      await waitFor(async () => (letters = await dlq(env)).length === 1, 10_000, "the dead letter");
      assert.equal(letters[0]!.errorCode, "FORBIDDEN");
      assert.equal(letters[0]!.reason, "unanswered_write");
      assert.equal(letters[0]!.user, a.user);
      // Replayed by the operator with the node's credentials, it runs as A again (not as the operator).
      const replay = await cli(["dlq", "replay", "--all", ...env.cliArgs]);
      assert.equal(replay.code, 0, replay.err);
      const queue = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
      await waitFor(async () => await readyCount(queue) === 1, 10_000, "the replayed write back in the DLQ");
      letters = await dlq(env);
      assert.equal(letters[0]!.user, a.user);
      assert.match(letters[0]!.errorMessage, new RegExp(`User "${a.user}" may not create`));
    });
  });
});

Deno.test("a retried write still runs as its original requester", async () => {
  await withUsers(async ({ env, clientB }) => {
    const db = env.dbUser!;
    try {
      await db.lock(true);
      await db.killSessions();
      const queue = workQueueName(env.queuePrefix, "appServer", "wBroker");
      const reply = clientB.request(
        { template: "cus", op: "create", data: { email: "b.retried@example.com", name: "B" } },
        { timeoutMs: 30_000 },
      );
      await waitFor(
        async () => {
          const [status] = await sendAdminCommand({
            amqp: env.config.amqp,
            command: "status",
            node: NODE,
            waitMs: 5000,
          });
          const brokers = (status?.data as { brokers: Array<{ queue: string; retries: number }> }).brokers;
          return brokers.find((s) => s.queue === queue)!.retries >= 1;
        },
        10_000,
        "a retry",
      );
      await db.lock(false);
      const result = await reply;
      assert.equal(result.ok, true, JSON.stringify(result));
      const rows = await dbQuery(env, "SELECT id FROM customers WHERE email = ?", ["b.retried@example.com"]);
      assert.equal(rows.length, 1);
    } finally {
      await db.lock(false).catch(() => {});
    }
  }, { dedicatedDbUser: true });
});

Deno.test("admin commands are obeyed from admin users only", async () => {
  await withUsers(async ({ env, a, clientA }) => {
    const status = await wBrokerRequests(env);
    assert.equal(typeof status, "number", "guest (an admin user) gets the status");
    const refused = await sendAdminCommand({
      amqp: a.amqp(env.config.amqp),
      command: "shutdown",
      node: NODE,
    });
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.ok, false);
    assert.equal(refused[0]!.error?.code, "FORBIDDEN");
    assert.match(
      refused[0]!.error?.message ?? "",
      new RegExp(`User "${a.user}" may not send admin commands`),
    );
    await new Promise((r) => setTimeout(r, 300));
    const still = await clientA.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(still.ok, true, "the node keeps running");
    const reload = await sendAdminCommand({ amqp: a.amqp(env.config.amqp), command: "reload", node: NODE });
    assert.equal(reload[0]?.error?.code, "FORBIDDEN");
    // The CLI says so too, and does not report a refusal as done.
    const asA = { BEDS_AMQP_USER: a.user, BEDS_AMQP_PASS: a.password };
    const shutdown = await cli(["shutdown", "--node", NODE, ...env.cliArgs], asA);
    assert.equal(shutdown.code, 1, shutdown.out);
    assert.match(shutdown.err, new RegExp(`node ${NODE} refused: FORBIDDEN`));
    assert.doesNotMatch(shutdown.out, /shutting down/);
    const reloadRun = await cli(["templates", "reload", "--wait", "1000", ...env.cliArgs], asA);
    assert.equal(reloadRun.code, 1, reloadRun.out + reloadRun.err);
    assert.match(
      reloadRun.err,
      new RegExp(`node ${NODE} refused: FORBIDDEN User "${a.user}" may not send admin`),
    );
    assert.doesNotMatch(reloadRun.out, /kept/);
    const table = await cli(["status", ...env.cliArgs], asA);
    assert.equal(table.code, 1, table.out + table.err);
    assert.match(table.err, /refused: FORBIDDEN/);
    assert.match(table.out, /0 node\(s\), 1 refused/);
    assert.equal((await clientA.request({ template: "cus", op: "read", key: { id: 1 } })).ok, true);
  });
});

Deno.test("a reload takes the config's new grants; a config that no longer loads keeps the old ones", async (t) => {
  await withUsers(async ({ env, a, clientA, clientB }) => {
    const file = `${env.configDir}/env_test.toml`;
    const original = await Deno.readTextFile(file);
    const readA = () => clientA.request({ template: "cus", op: "read", key: { id: 1 } });
    await t.step("A reads before", async () => assert.equal((await readA()).ok, true));
    await t.step("A's grant revoked in the file: after `templates reload` A is FORBIDDEN", async () => {
      const revoked = original.replace(
        `[access.users.${a.user}]\nallow = ["read.*"]`,
        `[access.users.${a.user}]\nallow = []`,
      );
      assert.notEqual(revoked, original);
      await Deno.writeTextFile(file, revoked);
      const run = await cli(["templates", "reload", "--wait", "2000", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(
        run.out,
        new RegExp(`${NODE}: reloaded, \\d+ templates, access control on \\(2 users, 1 admins\\)`),
      );
      assert.equal(code(await readA()), "FORBIDDEN");
    });
    await t.step("a config that does not load refuses the reload and keeps the grants", async () => {
      await Deno.writeTextFile(file, original + "\n[access\n");
      const [reply] = await sendAdminCommand({ amqp: env.config.amqp, command: "reload", node: NODE });
      const result = reply?.data as { ok: boolean; error?: string };
      assert.equal(result.ok, false, JSON.stringify(reply));
      assert.match(result.error ?? "", /env_test\.toml/);
      assert.equal(code(await readA()), "FORBIDDEN", "still revoked");
      const created = await clientB.request({
        template: "cus",
        op: "create",
        data: { email: "b.after.reload@example.com", name: "B" },
      });
      assert.equal(created.ok, true, JSON.stringify(created));
    });
    await t.step("the grant given back and reloaded, A reads again", async () => {
      await Deno.writeTextFile(file, original);
      const [reply] = await sendAdminCommand({ amqp: env.config.amqp, command: "reload", node: NODE });
      assert.equal((reply?.data as { ok: boolean }).ok, true, JSON.stringify(reply));
      assert.equal((await readA()).ok, true);
    });
  });
});

Deno.test("a dead letter with no requester, replayed with the node's credentials, does not run as the node", async () => {
  await withUsers(async ({ env, a }) => {
    // A, who may only read, sends a fire-and-forget create with no user_id at all.
    const conn = await amqp.connect(a.amqp(env.config.amqp));
    try {
      const ch = await conn.createConfirmChannel();
      const email = `anon.${crypto.randomUUID().slice(0, 8)}@example.com`;
      ch.publish(
        env.exchange,
        "create.cus",
        Buffer.from(JSON.stringify({ template: "cus", op: "create", data: { email, name: "Anon" } })),
      );
      await ch.waitForConfirms();
      await ch.close();
      await waitFor(
        async () => (await dlq(env)).some((l) => l.body.includes(email)),
        10_000,
        "the dead letter",
      );
      const [letter] = (await dlq(env)).filter((l) => l.body.includes(email));
      assert.equal(letter!.errorCode, "FORBIDDEN");
      assert.equal(letter!.user, "");

      // The operator replays it with the node's credentials (guest is the node's user here).
      const replay = await cli(["dlq", "replay", "--id", letter!.id, ...env.cliArgs]);
      assert.equal(replay.code, 0, replay.out + replay.err);
      await waitFor(
        async () => (await dlq(env)).some((l) => l.body.includes(email) && l.id !== letter!.id),
        10_000,
        "the replayed copy to be refused and dead-lettered again",
      );
      const rows = await dbQuery<Array<{ n: number }>>(
        env,
        "SELECT COUNT(*) AS n FROM customers WHERE email = ?",
        [
          email,
        ],
      );
      assert.equal(Number(rows[0]!.n), 0, "the create never ran");
    } finally {
      await conn.close().catch(() => {});
    }
    // The node's user holds grants of its own (as a node's does: its log store, its gateway).
  }, { nodeGrants: ["*.*"] });
});

Deno.test("a letter published straight into a dead-letter queue is listed and replayed as its publisher's", async () => {
  await withUsers(async ({ env, b }) => {
    const { suffix, c, conn } = await planter();
    try {
      const queue = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
      const emails = [`plant.hdr.${suffix}@example.com`, `plant.death.${suffix}@example.com`];
      const create = (email: string) =>
        Buffer.from(JSON.stringify({ template: "cus", op: "create", data: { email, name: "Planted" } }));
      const ch = await conn.createConfirmChannel();
      // Headers as a node's copy has them, claiming B (who may create customers) as the requester.
      ch.sendToQueue(queue, create(emails[0]!), {
        messageId: "plant-hdr",
        userId: c.user,
        headers: {
          "x-beds-user": b.user,
          "x-beds-routing-key": "create.cus",
          "x-beds-reason": "retries_exhausted",
          "x-beds-attempt": 3,
          "x-beds-error-code": "DB_UNAVAILABLE",
        },
      });
      // The same claim on a letter that looks dead-lettered by RabbitMQ.
      ch.sendToQueue(queue, create(emails[1]!), {
        messageId: "plant-death",
        userId: c.user,
        headers: {
          "x-beds-user": b.user,
          "x-death": [{
            count: 1,
            reason: "delivery_limit",
            queue: "q",
            exchange: env.exchange,
            "routing-keys": ["create.cus"],
          }],
        },
      });
      await ch.waitForConfirms();

      const listed = await dlq(env);
      const hdr = listed.find((l) => l.messageId === "plant-hdr")!;
      assert.deepEqual(
        [hdr.user, hdr.routingKey, hdr.attempts, hdr.reason, hdr.errorCode],
        [c.user, "", 1, "rejected", ""],
        "none of its BEDS headers is believed",
      );
      const death = listed.find((l) => l.messageId === "plant-death")!;
      assert.deepEqual([death.user, death.routingKey], [c.user, "create.cus"]);

      // The operator replays everything with the node's credentials.
      const replay = await cli(["dlq", "replay", "--all", ...env.cliArgs]);
      assert.equal(replay.code, 1, replay.out + replay.err);
      assert.match(
        replay.err,
        /kept [0-9a-f]{16} \(message_id plant-hdr\) in .*wBroker\.dlq: it names no routing key/,
      );
      assert.match(replay.out, /replayed [0-9a-f]{16} \(message_id plant-death\) → create\.cus/);
      let back: DeadLetter | undefined;
      await waitFor(
        async () => {
          back = (await dlq(env)).find((l) => l.body.includes(emails[1]!) && l.messageId !== "plant-death");
          return back !== undefined;
        },
        10_000,
        "the replayed letter to be refused and dead-lettered again",
      );
      assert.equal(back!.user, c.user, "it ran as its publisher, not as the user it named");
      assert.equal(back!.errorCode, "FORBIDDEN");
      for (const email of emails) {
        const rows = await dbQuery(env, "SELECT id FROM customers WHERE email = ?", [email]);
        assert.equal(rows.length, 0, `${email} was not created`);
      }
    } finally {
      await conn.close().catch(() => {});
      await c.drop();
    }
  });
});

Deno.test("a letter replayed by an operator who is not the nodes' user runs as no one else", async (t) => {
  // B may create customers and, as an operator, read and replay dead letters; B is not the nodes' user.
  await withUsers(async ({ env, b }) => {
    const { suffix, c, conn } = await planter();
    const asB = { BEDS_AMQP_USER: b.user, BEDS_AMQP_PASS: b.password };
    try {
      const queue = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
      const email = `plant.replay.${suffix}@example.com`;
      const death = (key: string) => ({
        "x-death": [{
          count: 1,
          reason: "delivery_limit",
          queue: "q",
          exchange: env.exchange,
          "routing-keys": [key],
        }],
      });
      const ch = await conn.createConfirmChannel();
      // C, who may create nothing, plants a create, and a read under this write broker's queue.
      ch.sendToQueue(
        queue,
        Buffer.from(JSON.stringify({ template: "cus", op: "create", data: { email, name: "Planted" } })),
        { messageId: "plant-create", userId: c.user, headers: death("create.cus") },
      );
      ch.sendToQueue(
        queue,
        Buffer.from(JSON.stringify({ template: "cus", op: "read", key: { id: 1 } })),
        { messageId: "plant-read", userId: c.user, headers: death("read.cus") },
      );
      await ch.waitForConfirms();

      let refusedId = "";
      await t.step("dlq list names each letter's user", async () => {
        const list = await cli(["dlq", "list", "--role", "appServer", ...env.cliArgs], asB);
        assert.equal(list.code, 0, list.err);
        assert.match(list.out, new RegExp(`plant-create .* create\\.cus  user=${c.user} `));
      });
      const replay = await cli(["dlq", "replay", "--all", "--role", "appServer", ...env.cliArgs], asB);
      await t.step("a key this broker does not bind is kept", () => {
        assert.equal(replay.code, 1, replay.out + replay.err);
        assert.match(
          replay.err,
          /kept [0-9a-f]{16} \(message_id plant-read\) in .*wBroker\.dlq: its routing key "read\.cus" is not one this broker binds/,
        );
      });
      await t.step("C's create, replayed by B, is refused: it does not run with B's grants", async () => {
        assert.match(
          replay.out,
          new RegExp(`replayed [0-9a-f]{16} \\(message_id plant-create\\) → create\\.cus as ${c.user}`),
        );
        let back: DeadLetter | undefined;
        await waitFor(
          async () => {
            back = (await dlq(env)).find((l) => l.body.includes(email) && l.messageId !== "plant-create");
            return back !== undefined;
          },
          10_000,
          "the replayed copy to be refused and dead-lettered again",
        );
        assert.equal(back!.errorCode, "FORBIDDEN");
        assert.match(back!.errorMessage, /only the nodes' AMQP user replays a letter as its requester/);
        const rows = await dbQuery(env, "SELECT id FROM customers WHERE email = ?", [email]);
        assert.equal(rows.length, 0, "the planted create never ran");
        assert.equal(back!.user, "", "the refused copy names no one, not B");
        refusedId = back!.id;
      });
      await t.step("replayed again with the nodes' credentials, it runs as no one", async () => {
        const again = await cli(["dlq", "replay", "--all", "--role", "appServer", ...env.cliArgs]);
        assert.match(again.out, /→ create\.cus as \(no user\)/);
        await waitFor(
          async () =>
            (await dlq(env)).some((l) =>
              l.body.includes(email) && l.id !== refusedId && l.errorCode === "FORBIDDEN" && l.user === ""
            ),
          10_000,
          "the copy refused again",
        );
        const rows = await dbQuery(env, "SELECT id FROM customers WHERE email = ?", [email]);
        assert.equal(rows.length, 0, "the planted create never ran with B's grants");
      });
    } finally {
      await conn.close().catch(() => {});
      await c.drop();
    }
  }, { permissionsB: { configure: "^$", write: ".*", read: ".*" } });
});

Deno.test("an admin command replayed from a dead-letter queue is refused, even from an admin user", async () => {
  await withUsers(async ({ env }) => {
    const conn = await amqp.connect(
      env.config.amqp.url ?? {
        hostname: "127.0.0.1",
        username: env.config.amqp.user,
        password: env.config.amqp.pass,
      },
    );
    try {
      const ch = await conn.createChannel();
      const reply = new Promise<Record<string, unknown>>((resolve) => {
        ch.consume("amq.rabbitmq.reply-to", (msg) => msg && resolve(JSON.parse(msg.content.toString())), {
          noAck: true,
        });
      });
      await new Promise((r) => setTimeout(r, 100));
      ch.publish(
        adminExchangeName(env.exchange),
        adminNodeKey(NODE),
        Buffer.from(JSON.stringify({ command: "shutdown" })),
        {
          replyTo: "amq.rabbitmq.reply-to",
          userId: env.config.amqp.user,
          headers: { "x-beds-replayed-from": "planted" },
        },
      );
      const answer = await reply as { ok: boolean; error?: { code: string; message: string } };
      assert.equal(answer.ok, false);
      assert.equal(answer.error?.code, "FORBIDDEN");
      assert.match(answer.error?.message ?? "", /never replayed/);
      assert.ok(await wBrokerRequests(env) >= 0, "the node is still running");
    } finally {
      await conn.close().catch(() => {});
    }
  });
});

Deno.test("the admin exchange's templates (the log store) are granted by name only, not by read.* or call.*", async () => {
  const s = crypto.randomUUID().slice(0, 8);
  const [wild, named] = [`beds_t_wild_${s}`, `beds_t_named_${s}`];
  const env = await createTestEnv({
    extraToml: `
[access]
enabled = true
admin_users = ["guest"]
[access.users.${wild}]
allow = ["read.*", "call.*"]
[access.users.${named}]
allow = ["read.mst"]
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
`,
  });
  const users = [
    await createAmqpUser(wild, `pw-w-${s}`, clientPermissions(env.exchange)),
    await createAmqpUser(named, `pw-n-${s}`, clientPermissions(env.exchange)),
  ];
  const admin = await startNode(env, "admin", `adm-${s}`);
  const clients: BedsClient[] = [];
  try {
    const connect = async (user: AmqpTestUser) => {
      const client = await BedsClient.connect({
        amqp: user.amqp(env.config.amqp),
        exchange: adminExchangeName(env.exchange),
      });
      clients.push(client);
      return client;
    };
    const [w, n] = [await connect(users[0]!), await connect(users[1]!)];
    const read = { template: "mst", op: "read", where: { kind: "ipl", max_rows: 5 } } as const;
    const refused = await w.request(read);
    assert.equal(refused.ok ? "ok" : refused.error.code, "FORBIDDEN", JSON.stringify(refused));
    const forged = await w.request({
      template: "mst",
      op: "call",
      call: "log_rows",
      data: {
        records: [["0zzzzzzzz-x-forged-0000", null, "request", "error", new Date().toISOString(), "x"]],
      },
    });
    assert.equal(forged.ok ? "ok" : forged.error.code, "FORBIDDEN", JSON.stringify(forged));
    const allowed = await n.request(read);
    assert.ok(allowed.ok, JSON.stringify(allowed));
  } finally {
    for (const c of clients) await c.close();
    await admin.stop();
    for (const u of users) await u.drop();
    await env.cleanup();
  }
});

Deno.test("an admin template is granted by name through the data exchange too, on a role that binds both", async () => {
  const s = crypto.randomUUID().slice(0, 8);
  const wild = `beds_t_wild_${s}`;
  const env = await createTestEnv({
    extraToml: `
[access]
enabled = true
admin_users = ["guest"]
[access.users.${wild}]
allow = ["read.*", "call.*"]
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
[brokers.comboLogs]
ops = ["read"]
exchange = "admin"
bindings = ["read.zzz"]
instances = 1
[nodes.appServer]
brokers = ["rBroker", "wBroker", "mBroker", "comboLogs"]
`,
  });
  const user = await createAmqpUser(wild, `pw-w-${s}`, clientPermissions(env.exchange));
  const node = await startNode(env, "appServer", `combo-${s}`);
  let client: BedsClient | undefined;
  try {
    // The role loads the admin templates (it binds a broker on the admin exchange); its data brokers
    // (read.*, call.*) would serve them to the data exchange.
    client = await BedsClient.connect({ amqp: user.amqp(env.config.amqp), exchange: env.exchange });
    const read = await client.request({ template: "mst", op: "read", where: { kind: "ipl", max_rows: 3 } });
    assert.equal(read.ok ? "ok" : read.error.code, "FORBIDDEN", JSON.stringify(read));
    const forged = await client.request({
      template: "mst",
      op: "call",
      call: "log_rows",
      data: {
        records: [[`0zzzzzzzz-x-forged-${s}`, null, "request", "error", new Date().toISOString(), "x"]],
      },
    });
    assert.equal(forged.ok ? "ok" : forged.error.code, "FORBIDDEN", JSON.stringify(forged));
    const data = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.ok(data.ok, JSON.stringify(data));
  } finally {
    await client?.close();
    await node.stop();
    await user.drop();
    await env.cleanup();
  }
});
