/**
 * Dead letters: every poison kind lands in its broker's DLQ with its reason,
 * a write whose retries ran out is kept there, and replay applies it once.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import mariadb from "mariadb";
import { adminExchangeName, deadLetterQueueName, workQueueName } from "../../src/amqp/mod.ts";
import type { DeadLetter } from "../../src/brokers/mod.ts";
import { runCli } from "../../src/cli/mod.ts";
import {
  cli,
  type CliRun,
  createTestEnv,
  readyCount,
  startNode,
  type TestEnv,
  waitFor,
} from "../helpers/services.ts";
import { listLetters, SHORT_RETRIES } from "../helpers/dead_letters.ts";

const dlq = (env: TestEnv) => listLetters(env);

async function publishRaw(env: TestEnv, routingKey: string, body: Uint8Array): Promise<void> {
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish(env.exchange, routingKey, Buffer.from(body), { contentType: "application/json" });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function count(env: TestEnv, sql: string, values: unknown[]): Promise<number> {
  const conn = await mariadb.createConnection({
    host: "127.0.0.1",
    user: "root",
    password: "",
    database: env.schema,
  });
  try {
    const rows = await conn.query(sql, values) as Array<{ n: number | bigint }>;
    return Number(rows[0]!.n);
  } finally {
    await conn.end();
  }
}

Deno.test("each poison-message kind lands in the DLQ with its reason", async (t) => {
  const env = await createTestEnv({ extraToml: SHORT_RETRIES });
  const node = await startNode(env);
  const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
  try {
    const kinds: Array<[string, string, Uint8Array, string, string]> = [
      ["not JSON", "create.cus", enc("{not json"), "BAD_REQUEST", "poison"],
      ["not UTF-8", "create.cus", new Uint8Array([0xff, 0xfe, 0x00]), "BAD_REQUEST", "poison"],
      ["wrong shape", "create.cus", enc({ template: "cus", op: "create", data: 5 }), "BAD_REQUEST", "poison"],
      [
        "too large",
        "create.cus",
        enc({ template: "cus", op: "create", data: { name: "x".repeat(70_000) } }),
        "TOO_LARGE",
        "poison",
      ],
      [
        "unknown template, no reply_to",
        "create.zzz",
        enc({ template: "zzz", op: "create", data: {} }),
        "UNKNOWN_TEMPLATE",
        "unanswered_write",
      ],
      [
        "invalid write, no reply_to",
        "create.cus",
        enc({ template: "cus", op: "create", data: { email: "x" } }),
        "VALIDATION",
        "unanswered_write",
      ],
    ];
    for (const [, key, body] of kinds) await publishRaw(env, key, body);
    let letters: DeadLetter[] = [];
    await waitFor(async () => (letters = await dlq(env)).length >= kinds.length, 10_000, "dead letters");
    assert.equal(letters.length, kinds.length);
    for (const [name, key, , code, reason] of kinds) {
      await t.step(`${name} → ${code} (${reason})`, () => {
        const letter = letters.find((l) =>
          l.errorCode === code && l.reason === reason && l.routingKey === key
        );
        assert.ok(
          letter,
          `no dead letter with ${code}/${reason} in ${
            JSON.stringify(letters.map((l) => [l.errorCode, l.reason]))
          }`,
        );
        assert.ok(letter.errorMessage.length > 0);
        assert.ok(letter.deadAt);
        assert.equal(
          letter.queue,
          deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker")),
        );
      });
    }
    assert.equal(await count(env, "SELECT COUNT(*) n FROM customers", []), 20, "the database is unchanged");
    const reply = await (await env.client()).request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(reply.ok, true, "the consumer keeps serving");
    const purge = await cli(["dlq", "purge", ...env.cliArgs]);
    assert.equal(purge.code, 2, "purge without --yes is refused");
    const purged = await cli(["dlq", "purge", "--yes", ...env.cliArgs]);
    assert.match(purged.out, /6 message\(s\) purged/);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a write whose retries run out is answered, dead-lettered, and replay applies it once", async () => {
  const env = await createTestEnv({ extraToml: SHORT_RETRIES, dedicatedDbUser: true });
  const db = env.dbUser!;
  const node = await startNode(env);
  try {
    const client = await env.client();
    // The database goes away for the node: its account is locked and its sessions killed.
    await db.lock(true);
    await db.killSessions();
    const started = Date.now();
    const reply = await client.request(
      { template: "cus", op: "create", data: { email: "late.writer@example.com", name: "Late Writer" } },
      { timeoutMs: 20_000 },
    );
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error.code, "DB_UNAVAILABLE");
    assert.ok(Date.now() - started >= 600, "the write was retried through the delay tiers (200 + 400 ms)");

    const deadline = await client.request(
      { template: "cus", op: "create", data: { email: "hurried@example.com", name: "Hurried" } },
      { timeoutMs: 150 },
    ).catch((e) => e);
    assert.ok(deadline, "a retry never outlives the deadline");

    const read = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.equal(!read.ok && read.error.code, "DB_UNAVAILABLE", "reads are answered at once");

    let letters: DeadLetter[] = [];
    await waitFor(async () => (letters = await dlq(env)).length >= 2, 10_000, "dead letters");
    const exhausted = letters.find((l) => l.reason === "retries_exhausted");
    assert.ok(exhausted, JSON.stringify(letters));
    assert.equal(exhausted.attempts, 3);
    assert.equal(exhausted.errorCode, "DB_UNAVAILABLE");
    assert.equal(exhausted.routingKey, "create.cus");
    assert.ok(
      letters.some((l) => l.reason === "deadline"),
      "the hurried write was dead-lettered at its deadline",
    );

    await db.lock(false);
    await waitFor(
      async () => (await client.request({ template: "cus", op: "read", key: { id: 1 } })).ok,
      15_000,
      "pool recovery",
    );
    const replay = await cli(["dlq", "replay", "--id", exhausted.id, ...env.cliArgs]);
    assert.equal(replay.code, 0, replay.err);
    const sql = "SELECT COUNT(*) n FROM customers WHERE email = ?";
    await waitFor(
      async () => await count(env, sql, ["late.writer@example.com"]) === 1,
      10_000,
      "replayed write",
    );
    const again = await cli(["dlq", "replay", "--id", exhausted.id, ...env.cliArgs]);
    assert.equal(again.code, 1, "a replayed message is no longer in the DLQ");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count(env, sql, ["late.writer@example.com"]), 1, "applied exactly once");
    assert.equal((await dlq(env)).filter((l) => l.id === exhausted.id).length, 0);
  } finally {
    await db.lock(false).catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a consumer whose queue is deleted under it is restarted and serves again", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  try {
    const client = await env.client();
    const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
    const ch = await conn.createChannel();
    await ch.deleteQueue(workQueueName(env.queuePrefix, "appServer", "rBroker"));
    await conn.close();
    await waitFor(
      async () => {
        const r = await client.request({ template: "cus", op: "read", key: { id: 1 } }, { timeoutMs: 500 })
          .catch(() => undefined);
        return r?.ok === true;
      },
      15_000,
      "the read broker to come back",
    );
    const status = await cli(["status", "--json", ...env.cliArgs]);
    const nodes = JSON.parse(status.out) as Array<{ brokers: Array<{ broker: string; restarts: number }> }>;
    const rBroker = nodes[0]!.brokers.find((b) => b.broker === "rBroker")!;
    assert.ok(rBroker.restarts >= 1, `restarts: ${rBroker.restarts}`);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("replay sends each letter through its broker's exchange and keeps one no queue would take, or its broker does not bind", async () => {
  const env = await createTestEnv();
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const ch = await conn.createConfirmChannel();
  const dataDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
  const adminDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "admin", "adminBrokerOut"));
  // Stand-ins for the brokers' work queues, bound as theirs would be.
  const dataSeen = `${env.queuePrefix}seen.data`;
  const adminSeen = `${env.queuePrefix}seen.admin`;
  try {
    await ch.assertExchange(env.exchange, "topic", { durable: true });
    await ch.assertExchange(adminExchangeName(env.exchange), "topic", { durable: true });
    for (const queue of [dataDlq, adminDlq, dataSeen, adminSeen]) await ch.assertQueue(queue);
    await ch.bindQueue(dataSeen, env.exchange, "read.cus");
    await ch.bindQueue(adminSeen, adminExchangeName(env.exchange), "create.nst");
    // BEDS's own copies carry the node's user_id (here guest's, the test's login); a letter
    // RabbitMQ dead-lettered itself carries its publisher's, or none.
    const letter = (queue: string, id: string, headers: Record<string, unknown>, userId?: string) =>
      ch.sendToQueue(queue, Buffer.from(`{"id":"${id}"}`), { messageId: id, headers, userId });
    // An admin broker's letter, one RabbitMQ dead-lettered itself (only `x-death` names its key),
    // and one whose key no queue is bound for.
    letter(
      adminDlq,
      "adm-1",
      { "x-beds-routing-key": "create.nst", "x-beds-reason": "unanswered_write" },
      "guest",
    );
    letter(dataDlq, "lim-1", {
      "x-death": [{
        count: 1,
        reason: "delivery_limit",
        queue: "q",
        exchange: env.exchange,
        "routing-keys": ["read.cus"],
      }],
    });
    // rBroker binds read.*, but no queue is bound for this one; and a key rBroker does not bind.
    letter(dataDlq, "nob-1", { "x-beds-routing-key": "read.nothing", "x-beds-reason": "poison" }, "guest");
    letter(dataDlq, "oth-1", { "x-beds-routing-key": "create.cus", "x-beds-reason": "poison" }, "guest");
    // A node's retry copy RabbitMQ dead-lettered itself: x-death names the work queue it was sent
    // back to, the node's own header the key the request came with.
    letter(dataDlq, "ret-1", {
      "x-beds-routing-key": "read.cus",
      "x-death": [{
        count: 1,
        reason: "delivery_limit",
        queue: "q",
        exchange: "",
        "routing-keys": ["q.work"],
      }],
    }, "guest");
    await ch.waitForConfirms();

    const run = await cli(["dlq", "replay", "--all", ...env.cliArgs]);
    assert.equal(run.code, 1, "a letter was kept");
    // Each named by its own id, and the message_id its request had.
    assert.match(run.out, /replayed [0-9a-f]{16} \(message_id adm-1\) → create\.nst/);
    assert.match(run.out, /replayed [0-9a-f]{16} \(message_id lim-1\) → read\.cus/);
    assert.match(run.out, /replayed [0-9a-f]{16} \(message_id ret-1\) → read\.cus/);
    assert.match(
      run.err,
      /kept [0-9a-f]{16} \(message_id nob-1\) in .*rBroker\.dlq: no queue is bound for "read\.nothing"/,
    );
    assert.match(
      run.err,
      /kept [0-9a-f]{16} \(message_id oth-1\) in .*rBroker\.dlq: its routing key "create\.cus" is not one this broker binds/,
    );
    assert.match(run.out, /3 message\(s\) replayed, 2 kept/);

    assert.equal(
      (await ch.checkQueue(adminSeen)).messageCount,
      1,
      "the admin letter went to the admin exchange",
    );
    assert.equal((await ch.checkQueue(dataSeen)).messageCount, 2);
    // The letter whose copy no queue took was put back (at the queue's end) as it was: same id.
    const left = await dlq(env);
    assert.deepEqual(left.map((l) => [l.messageId, l.routingKey]).sort(), [["nob-1", "read.nothing"], [
      "oth-1",
      "create.cus",
    ]]);
    const keptId = /kept ([0-9a-f]{16}) \(message_id nob-1\)/.exec(run.err)?.[1];
    assert.equal(left.find((l) => l.messageId === "nob-1")?.id, keptId);
    const listed = await cli(["dlq", "list", "--json", ...env.cliArgs]);
    assert.equal(listed.code, 0, listed.err);
  } finally {
    for (const queue of [dataDlq, adminDlq, dataSeen, adminSeen]) await ch.deleteQueue(queue).catch(() => {});
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes each body fire-and-forget to `routingKey` on the env's exchange, over one channel. */
async function publishAll(env: TestEnv, routingKey: string, bodies: Uint8Array[]): Promise<void> {
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  try {
    const ch = await conn.createConfirmChannel();
    for (const body of bodies) {
      ch.publish(env.exchange, routingKey, Buffer.from(body), { contentType: "application/json" });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function wBrokerRequests(env: TestEnv): Promise<number> {
  const status = await cli(["status", "--json", ...env.cliArgs]);
  const nodes = JSON.parse(status.out) as Array<{ brokers: Array<{ broker: string; requests: number }> }>;
  return nodes[0]!.brokers.find((b) => b.broker === "wBroker")!.requests;
}

Deno.test("replay --all replays each letter once per run, though those that fail again are back at once", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const queue = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
  const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
  // Poison, and writes that run and fail again on every replay (a customer with that email exists).
  const bodies = Array.from(
    { length: 40 },
    (_, i) =>
      i % 2
        ? enc("{not json")
        : enc({ template: "cus", op: "create", data: { email: "ana.garcia@example.com", name: `Dup ${i}` } }),
  );
  let replay: Promise<CliRun> | undefined;
  try {
    await publishAll(env, "create.cus", bodies);
    await waitFor(async () => await readyCount(queue) === bodies.length, 10_000, "the dead letters");
    const before = (await dlq(env)).map((l) => l.id);
    assert.equal(before.length, bodies.length);

    replay = cli(["dlq", "replay", "--all", "--broker", "wBroker", ...env.cliArgs]);
    const run = await Promise.race([replay, sleep(20_000).then(() => undefined)]);
    assert.ok(run, "replay --all did not end within 20 s");
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^40 message\(s\) replayed$/m);
    const replayed = run.out.split("\n").filter((l) => l.startsWith("replayed ")).map((l) => l.split(" ")[1]);
    assert.deepEqual(replayed.toSorted(), before.toSorted(), "each letter replayed once");

    // Each failed again and came back once, under the id of its replayed copy.
    await waitFor(
      async () => await wBrokerRequests(env) === 2 * bodies.length,
      10_000,
      "the replayed copies",
    );
    await waitFor(async () => await readyCount(queue) === bodies.length, 10_000, "the letters back");
    await sleep(300);
    const after = await dlq(env);
    assert.equal(after.length, bodies.length);
    assert.ok(after.every((l) => !before.includes(l.id) && l.routingKey === "create.cus"));
    assert.deepEqual(
      after.map((l) => l.reason).toSorted(),
      [...Array(20).fill("poison"), ...Array(20).fill("unanswered_write")],
    );
    assert.equal(await wBrokerRequests(env), 2 * bodies.length, "no write ran a third time");
  } finally {
    assert.equal(await node.stop(), 0);
    await replay?.catch(() => {});
    await env.cleanup();
  }
});

Deno.test("replay stopped by a signal finishes the letter in hand and leaves the rest", async () => {
  const env = await createTestEnv();
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const ch = await conn.createConfirmChannel();
  const dataDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
  const seen = `${env.queuePrefix}seen.data`;
  const letters = 1000;
  try {
    await ch.assertExchange(env.exchange, "topic", { durable: true });
    for (const queue of [dataDlq, seen]) await ch.assertQueue(queue);
    await ch.bindQueue(seen, env.exchange, "read.*");
    for (let i = 0; i < letters; i++) {
      ch.sendToQueue(dataDlq, Buffer.from(`{"n":${i}}`), {
        messageId: `sig-${i}`,
        headers: { "x-beds-routing-key": "read.cus" },
        userId: "guest",
      });
    }
    await ch.waitForConfirms();

    const controller = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    let handled = false;
    const running = runCli(["dlq", "replay", "--all", "--broker", "rBroker", ...env.cliArgs], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      environ: {},
      signal: controller.signal,
      handleSignals: () => handled = true,
    });
    let done = false;
    running.finally(() => done = true);
    // The signal comes once the first copies are out.
    while (!done && (await ch.checkQueue(seen)).messageCount === 0) await sleep(2);
    controller.abort("SIGTERM");
    const code = await running;
    assert.ok(handled, "replay stops by itself on a signal");
    assert.equal(code, 143, err.join("\n"));
    assert.match(err.join("\n"), /stopped by a signal/);
    const replayed = out.filter((l) => l.startsWith("replayed ")).length;
    assert.ok(replayed >= 1 && replayed < letters, `${replayed} replayed`);
    assert.equal((await ch.checkQueue(seen)).messageCount, replayed, "each replayed copy went out once");
    assert.equal((await ch.checkQueue(dataDlq)).messageCount, letters - replayed, "the rest stay");
  } finally {
    for (const queue of [dataDlq, seen]) await ch.deleteQueue(queue).catch(() => {});
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("each dlq action refuses the flags of another: purge --id deletes nothing", async () => {
  const env = await createTestEnv();
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const ch = await conn.createConfirmChannel();
  const dataDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
  try {
    await ch.assertQueue(dataDlq);
    for (const id of ["one-1", "two-2"]) {
      ch.sendToQueue(dataDlq, Buffer.from(`{"id":"${id}"}`), {
        messageId: id,
        headers: { "x-beds-routing-key": "read.cus" },
        userId: "guest",
      });
    }
    await ch.waitForConfirms();
    // Purge empties whole queues: an --id it ignored would delete every letter, not the one named.
    const purge = await cli(["dlq", "purge", "--id", "one-1", "--yes", ...env.cliArgs]);
    assert.equal(purge.code, 2, purge.out + purge.err);
    assert.match(purge.err, /^beds: beds dlq purge does not take --id$/m);
    for (
      const [args, flag] of [
        [["list", "--yes"], "yes"],
        [["list", "--all"], "all"],
        [["replay", "--all", "--json"], "json"],
        [["replay", "--id", "one-1", "--yes"], "yes"],
      ] as const
    ) {
      const run = await cli(["dlq", ...args, ...env.cliArgs]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.out}${run.err}`);
      assert.match(run.err, new RegExp(`^beds: beds dlq ${args[0]} does not take --${flag}$`, "m"));
    }
    assert.equal((await ch.checkQueue(dataDlq)).messageCount, 2, "both letters stay");
    assert.deepEqual((await dlq(env)).map((l) => l.messageId).toSorted(), ["one-1", "two-2"]);
  } finally {
    await ch.deleteQueue(dataDlq).catch(() => {});
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("SIGHUP stops a replay process like SIGTERM: after the letter in hand, exit 129", async () => {
  const env = await createTestEnv();
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const ch = await conn.createConfirmChannel();
  const dataDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
  const seen = `${env.queuePrefix}seen.data`;
  const letters = 3000;
  let child: Deno.ChildProcess | undefined;
  try {
    await ch.assertExchange(env.exchange, "topic", { durable: true });
    for (const queue of [dataDlq, seen]) await ch.assertQueue(queue);
    await ch.bindQueue(seen, env.exchange, "read.*");
    for (let i = 0; i < letters; i++) {
      ch.sendToQueue(dataDlq, Buffer.from(`{"n":${i}}`), {
        messageId: `hup-${i}`,
        headers: { "x-beds-routing-key": "read.cus" },
        userId: "guest",
      });
    }
    await ch.waitForConfirms();

    // A process of its own: SIGHUP's default action (a closed terminal) would end it at once,
    // between a copy's confirm and its letter's ack, and the letter would be replayed twice.
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "src/main.ts", "dlq", "replay", "--all", "--broker", "rBroker", ...env.cliArgs],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let exited = false;
    output.finally(() => exited = true);
    await waitFor(
      async () => exited || (await ch.checkQueue(seen)).messageCount > 0,
      20_000,
      "the first copies",
    );
    assert.ok(!exited, "the replay ended before the signal");
    child.kill("SIGHUP");
    const result = await output;
    const out = new TextDecoder().decode(result.stdout);
    const err = new TextDecoder().decode(result.stderr);
    assert.equal(result.signal, null, "it stopped by itself, not by the signal's default action");
    assert.equal(result.code, 129, err);
    assert.match(err, /stopped by a signal/);
    const replayed = out.split("\n").filter((l) => l.startsWith("replayed ")).length;
    assert.ok(replayed >= 1 && replayed < letters, `${replayed} replayed`);
    assert.equal((await ch.checkQueue(seen)).messageCount, replayed, "each replayed copy went out once");
    assert.equal((await ch.checkQueue(dataDlq)).messageCount, letters - replayed, "the rest stay");
  } finally {
    try {
      child?.kill("SIGKILL");
    } catch { /* exited */ }
    for (const queue of [dataDlq, seen]) await ch.deleteQueue(queue).catch(() => {});
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});
