/**
 * `beds dlq` and letters in other hands: a DLQ another `beds dlq` is reading is refused, not swept
 * past the letters it holds; and a replay cut off mid-letter leaves the letter or its copy, never
 * both (its copy and its ack are one transaction).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { type AmqpConnection, deadLetterQueueName, dropSocket, workQueueName } from "../../src/amqp/mod.ts";
import { replayDeadLetters } from "../../src/brokers/dead_letter_replay.ts";
import { sweep } from "../../src/brokers/dead_letter_sweep.ts";
import { AMQP_URL, cli, createTestEnv, readyCount, type TestEnv, waitFor } from "../helpers/services.ts";
import { listLetters } from "../helpers/dead_letters.ts";

/**
 * wBroker's DLQ with `n` letters a node would have stored (poison creates), and a stand-in for its
 * work queue, bound as the node would bind it: no node runs, so the copies stay there to be counted.
 */
async function lettersAndWorkQueue(env: TestEnv, n: number, queueType = "classic") {
  const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const dlq = deadLetterQueueName(work);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(env.exchange, "topic", { durable: true });
    await ch.assertQueue(work);
    await ch.assertQueue(dlq, { arguments: { "x-queue-type": queueType } });
    await ch.bindQueue(work, env.exchange, "create.*");
    for (let i = 0; i < n; i++) {
      ch.sendToQueue(dlq, Buffer.from(`{"template":"cus","op":"create","data":{"n":${i}}}`), {
        messageId: `held-${i}`,
        userId: "guest",
        headers: { "x-beds-routing-key": "create.cus", "x-beds-reason": "poison" },
      });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  return { work, dlq };
}

Deno.test("a DLQ another beds dlq is reading is refused by list, replay and purge, and its letters stay", async (t) => {
  // Quorum too, which does not enforce an exclusive consumer.
  for (const queueType of ["classic", "quorum"]) {
    await t.step(queueType, () => refusedWhileHeld(queueType));
  }
});

async function refusedWhileHeld(queueType: string): Promise<void> {
  const env = await createTestEnv();
  const { work, dlq } = await lettersAndWorkQueue(env, 4, queueType);
  const conn = await amqp.connect(AMQP_URL) as unknown as AmqpConnection;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  let holding!: () => void;
  const held = new Promise<void>((resolve) => holding = resolve);
  try {
    // Another operator's `beds dlq list`, halfway through a long queue: it holds one letter.
    const other = sweep(conn, dlq, async () => {
      holding();
      await gate;
      return "stop";
    });
    await held;
    const refused = /Dead-letter queue ".*wBroker\.dlq" is being read by another beds dlq; try again/;
    const broker = ["--broker", "wBroker", ...env.cliArgs];
    for (
      const args of [
        ["dlq", "replay", "--all", ...broker],
        ["dlq", "replay", "--id", "held-0", ...broker],
        ["dlq", "list", ...broker],
        ["dlq", "purge", "--yes", ...broker],
      ]
    ) {
      const run = await cli(args);
      assert.equal(run.code, 1, `${args.slice(0, 3).join(" ")}: ${run.out}`);
      assert.match(run.err, refused, args.join(" "));
      assert.doesNotMatch(run.out, /message\(s\) (replayed|purged)|dead letter\(s\)/);
    }
    assert.equal(await readyCount(work), 0, "nothing was replayed");
    open();
    await other;
    // Given back, all four are there, and the next replay takes them all.
    assert.equal(await readyCount(dlq), 4);
    const run = await cli(["dlq", "replay", "--all", ...broker]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^4 message\(s\) replayed$/m);
    assert.equal(await readyCount(work), 4);
  } finally {
    open?.();
    await conn.close().catch(() => {});
    await env.cleanup();
  }
}

Deno.test("a replay whose connection is lost between a copy's publish and its commit leaves the letter, not both", async () => {
  const env = await createTestEnv();
  const { work, dlq } = await lettersAndWorkQueue(env, 3);
  const conn = await amqp.connect(AMQP_URL) as unknown as AmqpConnection;
  conn.on("error", () => {});
  // The connection drops when the replay acks its first letter: after the copy went out, before
  // anything acked it or committed it.
  const createChannel = conn.createChannel.bind(conn);
  conn.createChannel = async (...args: Parameters<AmqpConnection["createChannel"]>) => {
    const channel = await createChannel(...args);
    channel.ack = () => dropSocket(conn);
    return channel;
  };
  try {
    await assert.rejects(
      replayDeadLetters(conn, {
        queues: [{ queue: dlq, exchange: env.exchange, bindings: ["create.*"] }],
        userId: "guest",
      }),
    );
    await waitFor(async () => await readyCount(dlq) === 3, 10_000, "the letters given back");
    assert.equal(await readyCount(work), 0, "the copy of a letter still there went nowhere");
    // Every letter is still there as it was, and replays once.
    assert.deepEqual((await listLetters(env, "--broker", "wBroker")).map((l) => l.messageId).sort(), [
      "held-0",
      "held-1",
      "held-2",
    ]);
    const run = await cli(["dlq", "replay", "--all", "--broker", "wBroker", ...env.cliArgs]);
    assert.equal(run.code, 0, run.err);
    assert.equal(await readyCount(work), 3);
    assert.equal(await readyCount(dlq), 0);
  } finally {
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});
