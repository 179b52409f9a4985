/**
 * Replaying dead letters: a letter runs when replayed though its request's deadline has long
 * passed, a fire-and-forget write refused for its deadline is kept rather than dropped, and
 * `replay --id` replays exactly the one letter it names.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { deadLetterQueueName, workQueueName } from "../../src/amqp/mod.ts";
import {
  AMQP_URL,
  cli,
  createTestEnv,
  dbQuery,
  readyCount,
  startNode,
  type TestEnv,
  waitFor,
} from "../helpers/services.ts";
import { listLetters, SHORT_RETRIES } from "../helpers/dead_letters.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const letters = (env: TestEnv) => listLetters(env, "--broker", "wBroker");

/** Publishes fire-and-forget requests (no reply_to) to the env's exchange. */
async function publish(
  env: TestEnv,
  requests: Array<{ key: string; body: unknown; messageId?: string }>,
): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    for (const { key, body, messageId } of requests) {
      ch.publish(env.exchange, key, Buffer.from(JSON.stringify(body)), {
        messageId,
        contentType: "application/json",
      });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function customers(env: TestEnv, email: string): Promise<number> {
  const rows = await dbQuery<Array<{ n: bigint }>>(env, "SELECT COUNT(*) n FROM customers WHERE email = ?", [
    email,
  ]);
  return Number(rows[0]!.n);
}

Deno.test("a replayed letter runs though its deadline passed, and its retries are not cut short by it", async () => {
  const env = await createTestEnv({ extraToml: SHORT_RETRIES, dedicatedDbUser: true });
  const db = env.dbUser!;
  const dlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
  const node = await startNode(env);
  try {
    await db.lock(true);
    await db.killSessions();
    // As a client sends it: a deadline a few seconds ahead, nobody waiting for the reply.
    const deadline = Date.now() + 3000;
    await publish(env, [{
      key: "create.cus",
      messageId: "w-1",
      body: {
        template: "cus",
        op: "create",
        deadline_ms: deadline,
        data: { email: "late@x.io", name: "Late" },
      },
    }]);
    await waitFor(async () => (await readyCount(dlq)) === 1, 15_000, "the letter");
    const [first] = await letters(env);
    assert.equal(first!.reason, "retries_exhausted");
    while (Date.now() <= deadline + 200) await sleep(100);

    // Replayed while the database is still away: it is tried max_attempts times again, not
    // refused for its deadline (at once, or at its first retry) and dropped.
    const early = await cli(["dlq", "replay", "--id", "w-1", ...env.cliArgs]);
    assert.equal(early.code, 0, early.err);
    await waitFor(async () => (await readyCount(dlq)) === 1, 15_000, "the letter back");
    const [back] = await letters(env);
    assert.equal(back!.errorCode, "DB_UNAVAILABLE", JSON.stringify(back));
    assert.equal(back!.reason, "retries_exhausted");
    assert.equal(back!.attempts, 3);

    await db.lock(false);
    const client = await env.client();
    await waitFor(
      async () => (await client.request({ template: "cus", op: "read", key: { id: 1 } })).ok,
      15_000,
      "pool recovery",
    );
    const replay = await cli(["dlq", "replay", "--id", back!.id, ...env.cliArgs]);
    assert.equal(replay.code, 0, replay.err);
    await waitFor(async () => await customers(env, "late@x.io") === 1, 10_000, "the replayed write");
    await sleep(300);
    assert.equal(await readyCount(dlq), 0, "nothing is kept: it ran");
  } finally {
    await db.lock(false).catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a fire-and-forget write refused for its deadline is kept as 'deadline', and runs when replayed", async () => {
  const env = await createTestEnv({ extraToml: SHORT_RETRIES });
  const dlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
  const node = await startNode(env);
  try {
    await publish(env, [{
      key: "create.cus",
      body: {
        template: "cus",
        op: "create",
        deadline_ms: Date.now() - 1000,
        data: { email: "old@x.io", name: "Old" },
      },
    }]);
    await waitFor(async () => (await readyCount(dlq)) === 1, 10_000, "the letter (not dropped)");
    const [letter] = await letters(env);
    assert.equal(letter!.reason, "deadline");
    assert.equal(letter!.errorCode, "DEADLINE_EXCEEDED");
    assert.equal(await customers(env, "old@x.io"), 0, "nothing ran");

    const replay = await cli(["dlq", "replay", "--id", letter!.id, ...env.cliArgs]);
    assert.equal(replay.code, 0, replay.err);
    await waitFor(async () => await customers(env, "old@x.io") === 1, 10_000, "the replayed write");
    await sleep(300);
    assert.equal(await readyCount(dlq), 0);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("replay --id replays the one letter it names, and refuses a message_id several letters share", async () => {
  const env = await createTestEnv();
  const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const dlq = deadLetterQueueName(work);
  let node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    // Two requests under one message_id (a client's resend), both failing: two letters.
    await publish(
      env,
      ["A", "B"].map((name) => ({
        key: "create.zzz",
        messageId: "order-42",
        body: { template: "zzz", op: "create", data: { n: name } },
      })),
    );
    await waitFor(async () => (await readyCount(dlq)) === 2, 10_000, "2 letters");
    assert.equal(await node.stop(), 0);
    // A request without message_id that RabbitMQ dead-letters itself (rejected).
    await publish(env, [{
      key: "create.cus",
      body: { template: "cus", op: "create", data: { email: "x@y.z", name: "X" } },
    }]);
    const ch = await conn.createChannel();
    const rejected = await ch.get(work, { noAck: false });
    assert.ok(rejected);
    ch.nack(rejected, false, false);
    await waitFor(async () => (await readyCount(dlq)) === 3, 10_000, "3 letters");

    const listed = await letters(env);
    assert.equal(listed.length, 3);
    assert.ok(listed.every((l) => /^[0-9a-f]{16}$/.test(l.id)), JSON.stringify(listed));
    assert.equal(new Set(listed.map((l) => l.id)).size, 3, "each letter has an id of its own");
    assert.deepEqual(
      (await letters(env)).map((l) => l.id),
      listed.map((l) => l.id),
      "the same ids at every listing",
    );
    const shared = listed.filter((l) => l.messageId === "order-42");
    const anonymous = listed.find((l) => l.messageId === "")!;
    assert.equal(shared.length, 2);
    assert.equal(anonymous.reason, "rejected");

    node = await startNode(env);
    const refused = await cli(["dlq", "replay", "--id", "order-42", ...env.cliArgs]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.err, /--id "order-42" names 2 different letters; none replayed/);
    for (const l of shared) assert.match(refused.err, new RegExp(`^${l.id}  message_id=order-42 `, "m"));
    await sleep(300);
    assert.equal(await readyCount(dlq), 3, "none was replayed");

    // The letter without message_id, by its own id: it runs.
    const one = await cli(["dlq", "replay", "--id", anonymous.id, ...env.cliArgs]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /^1 message\(s\) replayed$/m);
    await waitFor(async () => await customers(env, "x@y.z") === 1, 10_000, "the replayed write");

    // One of the two, by its id: only it (it fails again and comes back under a new id).
    const a = await cli(["dlq", "replay", "--id", shared[0]!.id, ...env.cliArgs]);
    assert.equal(a.code, 0, a.err);
    assert.match(
      a.out,
      new RegExp(`^replayed ${shared[0]!.id} \\(message_id order-42\\) → create\\.zzz`, "m"),
    );
    assert.match(a.out, /^1 message\(s\) replayed$/m);
    await waitFor(async () => (await readyCount(dlq)) === 2, 10_000, "the replayed letter back");
    const after = await letters(env);
    assert.ok(after.some((l) => l.id === shared[1]!.id), "the other stays as it was");
    assert.ok(!after.some((l) => l.id === shared[0]!.id));

    const none = await cli(["dlq", "replay", "--id", "0000000000000000", ...env.cliArgs]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no dead letter has the id or message_id "0000000000000000"/);
  } finally {
    await conn.close().catch(() => {});
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("a write's retry that comes back past its deadline is answered with the last attempt's error, and kept", async () => {
  const env = await createTestEnv({ extraToml: SHORT_RETRIES });
  const queue = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const replies: amqp.ConsumeMessage[] = [];
    await ch.consume("amq.rabbitmq.reply-to", (msg) => msg && replies.push(msg), { noAck: true });
    // The copy a node stores for a retry, as it comes back from its delay queue a little late: its
    // first attempt failed DB_UNAVAILABLE, and its deadline passed while it waited.
    const body = {
      template: "cus",
      op: "update",
      key: { id: 1 },
      data: { name: "Late" },
      deadline_ms: Date.now() - 50,
    };
    ch.sendToQueue(queue, Buffer.from(JSON.stringify(body)), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "late-1",
      contentType: "application/json",
      userId: "guest",
      headers: {
        "x-beds-attempt": 2,
        "x-beds-error-code": "DB_UNAVAILABLE",
        "x-beds-error-message": "Database unavailable; try again",
        "x-beds-routing-key": "update.cus",
        "x-beds-event": "0000000ab-late-boot-0000",
      },
    });
    await waitFor(() => Promise.resolve(replies.length === 1), 10_000, "the reply");
    const reply = JSON.parse(replies[0]!.content.toString());
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, "DB_UNAVAILABLE", JSON.stringify(reply));
    assert.match(
      reply.error.message,
      /^Database unavailable; try again \(attempt 1; the deadline passed before attempt 2/,
    );
    await waitFor(async () => (await letters(env)).length === 1, 10_000, "the dead letter");
    const [letter] = await letters(env);
    assert.equal(letter!.reason, "deadline");
    assert.equal(letter!.routingKey, "update.cus");
  } finally {
    await conn.close();
    await node.stop();
    await env.cleanup();
  }
});
