/**
 * Consumers under the server's faults: a consumer the server cancels (its
 * queue deleted, a quorum leader moved) finishes the deliveries it is
 * running before it restarts; a restart the server refuses is retried
 * without taking the node's connection down; a delivery whose retry or
 * dead-letter copy is refused, or finds its queue gone, waits and is
 * requeued rather than acked.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import {
  adminExchangeName,
  deadLetterQueueName,
  declareTopology,
  workQueueName,
} from "../../src/amqp/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import {
  AMQP_URL,
  cli,
  consumerCount,
  createTestEnv,
  dbQuery,
  readyCount,
  ROOT,
  startNode,
  type TestEnv,
  waitFor,
} from "../helpers/services.ts";

/** Runs `work` against a node on an env of its own, with a plain amqplib connection; the node then stops cleanly. */
async function withNode(work: (env: TestEnv, conn: amqp.ChannelModel) => Promise<void>): Promise<void> {
  const env = await createTestEnv();
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    await work(env, conn);
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
}

Deno.test("a consumer cancelled by the server finishes the deliveries in flight, then restarts", async () => {
  const dir = await templatesWith(ROOT, {
    "slw_rec.toml": `[template]
name = "slw"
store = "mariadb"
database = "lab"

[fields.ms]
type = "int"
min = 0
max = 5000

[calls.nap]
procedure = "sp_slw_nap"
params = ["ms"]
required = ["ms"]
`,
  });
  const env = await createTestEnv({ templatesDir: dir });
  await dbQuery(
    env,
    "CREATE PROCEDURE sp_slw_nap(IN p_ms INT) BEGIN DO SLEEP(p_ms / 1000); SELECT p_ms AS ms; END",
  );
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const client = await env.client();
    const queue = workQueueName(env.queuePrefix, "appServer", "mBroker");
    const slow = client.request({ template: "slw", op: "call", call: "nap", key: { ms: 1500 } }, {
      timeoutMs: 10_000,
    });
    await waitFor(
      async () =>
        await consumerCount(queue) === 1 && (await dbQuery<Array<{ n: number }>>(
            env,
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(p_ms%'",
          ))[0]!.n > 0,
      5_000,
      "the call to be running",
    );
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue); // the server cancels the queue's consumer
    await ch.close();

    const reply = await slow;
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.deepEqual(reply.data, [{ ms: 1500 }]);

    // The pool re-declares the queue and restarts the consumer, which serves again.
    await waitFor(async () => await consumerCount(queue) === 1, 15_000, "the consumer to restart");
    const again = await client.request({ template: "slw", op: "call", call: "nap", key: { ms: 0 } });
    assert.ok(again.ok, JSON.stringify(again));
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a consumer whose restart the server refuses is retried, and the node's connection stays up", async () => {
  await withNode(async (env, conn) => {
    const client = await env.client();
    const queue = workQueueName(env.queuePrefix, "appServer", "mBroker");
    const broker = env.config.brokers.mBroker!;
    const ch = await conn.createChannel();
    // Delete the queue (the server cancels the node's consumer), then take it first, exclusively:
    // the pool's restart re-declares it and its consume is refused, which closes that channel
    // while the consumer is still starting.
    await ch.deleteQueue(queue);
    await declareTopology(ch, {
      exchange: env.config.amqp.exchange,
      queuePrefix: env.queuePrefix,
      role: "appServer",
      brokers: [{ name: "mBroker", config: broker }],
    });
    const { consumerTag } = await ch.consume(queue, () => {}, { exclusive: true });
    // Restarts run 0.1, 0.2, 0.4 … s apart: give it a few refusals.
    await new Promise((resolve) => setTimeout(resolve, 800));

    // The rest of the node kept serving on the same connection.
    const read = await client.request({ template: "cus", op: "read", key: { id: 1 } });
    assert.ok(read.ok, JSON.stringify(read));

    // … without a reconnect: the refused start was not mistaken for the loss of the connection.
    const status = await cli(["status", "--json", ...env.cliArgs]);
    assert.equal(status.code, 0, status.err);
    assert.equal((JSON.parse(status.out) as Array<{ amqpReconnects: number }>)[0]!.amqpReconnects, 0);

    await ch.cancel(consumerTag);
    await waitFor(async () => await consumerCount(queue) === 1, 15_000, "the consumer to restart");
    const call = await client.request({ template: "cus", op: "call", call: "order_total", key: { id: 1 } });
    assert.ok(call.ok, JSON.stringify(call));
    await ch.close();
  });
});

Deno.test("a delivery whose dead-letter copy is refused runs once, keeps its place and is stored once the queue takes it", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  // Every dead-letter queue of this run refuses what is published to it.
  const policy = `beds-test-refuse-${env.queuePrefix.replaceAll(".", "-")}`;
  const rabbitmqctl = async (...args: string[]) => {
    const out = await new Deno.Command("rabbitmqctl", { args, stdout: "piped", stderr: "piped" }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  await rabbitmqctl(
    "set_policy",
    policy,
    `^${env.queuePrefix.replaceAll(".", "\\.")}.*\\.dlq$`,
    JSON.stringify({ "max-length": 0, overflow: "reject-publish" }),
    "--apply-to",
    "queues",
    "--priority",
    "100",
  );
  const deadLetters = async () => {
    const run = await cli(["status", "--json", ...env.cliArgs]);
    assert.equal(run.code, 0, run.err);
    const nodes = JSON.parse(run.out) as Array<{ brokers: Array<{ broker: string; deadLetters: number }> }>;
    return nodes[0]!.brokers.find((b) => b.broker === "rBroker")!.deadLetters;
  };
  try {
    // The policy reaches the queue, or the test would not exercise a refused copy.
    const rBrokerDlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
    await waitFor(
      async () => {
        const out = await new Deno.Command("rabbitmqctl", {
          args: ["-q", "list_queues", "name", "policy", "--no-table-headers"],
          stdout: "piped",
          stderr: "null",
        }).output();
        return new TextDecoder().decode(out.stdout).split("\n").some((line) =>
          line.startsWith(`${rBrokerDlq}\t`) && line.trim().endsWith(policy)
        );
      },
      10_000,
      "the refusing policy on the dead-letter queue",
    );
    const ch = await conn.createConfirmChannel();
    ch.publish(env.config.amqp.exchange, "read.cus", Buffer.from("not json"));
    await ch.waitForConfirms();
    await waitFor(async () => await deadLetters() >= 1, 5_000, "the poison message to be handled");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Given back to its queue it would run again (a write too) each time: the copy is tried again instead.
    assert.equal(await deadLetters(), 1, "the request ran once");

    // Once the queue takes copies again, the letter is stored there and leaves the work queue.
    await rabbitmqctl("clear_policy", policy);
    const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
    const dlq = deadLetterQueueName(queue);
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 20_000, "the dead letter");
    assert.equal(await deadLetters(), 1);
    const { messageCount, consumerCount } = await ch.checkQueue(queue);
    assert.equal(messageCount, 0);
    assert.ok(consumerCount > 0);
    await ch.close();
  } finally {
    await rabbitmqctl("clear_policy", policy).catch(() => {});
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a dead-letter copy to a queue that is gone is not acked as stored: the node declares the queue again", async () => {
  await withNode(async (env, conn) => {
    const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
    const dlq = deadLetterQueueName(queue);
    const ch = await conn.createConfirmChannel();
    await ch.deleteQueue(dlq); // by hand, as an operator might while changing its type
    ch.publish(env.config.amqp.exchange, "read.cus", Buffer.from("not json"));
    await ch.waitForConfirms();
    // RabbitMQ confirmed the copy to the missing queue as well; only its return told the node, which
    // declares its queues again and stores the copy there.
    await waitFor(async () => await readyCount(dlq) === 1, 10_000, "the dead letter");
    assert.equal((await ch.checkQueue(queue)).messageCount, 0);
    await ch.close();
  });
});

/**
 * Publishes with a correlation_id of 100 raw 0xFF bytes, which no JS string encodes to: RabbitMQ
 * passes them on, amqplib decodes each as U+FFFD (3 bytes), and the 300 bytes no longer fit a reply.
 * Buffer.write is swapped only while amqplib encodes this one frame (synchronously, in publish).
 */
function publishWithRawCorrelationId(
  ch: amqp.ConfirmChannel,
  exchange: string,
  key: string,
  body: unknown,
  replyTo: string,
): void {
  const mark = "Q".repeat(100);
  const write = Buffer.prototype.write;
  // deno-lint-ignore no-explicit-any
  (Buffer.prototype as any).write = function (this: Buffer, text: string, ...rest: any[]) {
    if (text !== mark) return (write as (...a: unknown[]) => number).call(this, text, ...rest);
    const at = rest[0] as number;
    this.fill(0xff, at, at + 100);
    return 100;
  };
  try {
    ch.publish(exchange, key, Buffer.from(JSON.stringify(body)), { replyTo, correlationId: mark });
  } finally {
    Buffer.prototype.write = write;
  }
}

Deno.test("a reply that cannot be sent back is logged, its delivery acked, and the node goes on", async () => {
  const env = await createTestEnv();
  const instance = `badcorr-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    const { queue: replies } = await ch.assertQueue("", { exclusive: true });
    // More than every consumer's prefetch: each left unacked would hold a slot for good.
    for (let i = 0; i < 250; i++) {
      publishWithRawCorrelationId(ch, env.exchange, "read.cus", {
        template: "cus",
        op: "read",
        key: { id: 1 },
      }, replies);
    }
    // And an admin command, which any client may send to the admin exchange.
    publishWithRawCorrelationId(ch, adminExchangeName(env.exchange), "all", { command: "status" }, replies);
    await ch.waitForConfirms();
    const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
    await waitFor(async () => (await readyCount(queue)) === 0, 15_000, "the reads to be taken");
    const client = await env.client();
    const reply = await client.request({ template: "cus", op: "read", key: { id: 2 } }, { timeoutMs: 5_000 });
    assert.ok(reply.ok, JSON.stringify(reply));
    const status = await cli(["status", "--json", ...env.cliArgs]);
    assert.equal(status.code, 0, status.err);
    assert.ok(status.out.includes(instance), "the node still answers admin commands");
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

/**
 * Waits for rBroker's one dead letter, checks it stays one (not stored again and again) and that
 * the work queue is empty, and lists the letters as `beds dlq list --json` does.
 */
async function storedOnce(
  env: TestEnv,
  ch: { checkQueue(queue: string): Promise<{ messageCount: number }> },
) {
  const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
  const dlq = deadLetterQueueName(queue);
  await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 10_000, "the dead letter");
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal((await ch.checkQueue(dlq)).messageCount, 1, "stored once, not again and again");
  assert.equal((await ch.checkQueue(queue)).messageCount, 0);
  return await cli(["dlq", "list", "--json", "--role", "appServer", ...env.cliArgs]);
}

Deno.test("a poison message with a huge header table is dead-lettered once, without the publisher's headers", async () => {
  await withNode(async (env, conn) => {
    const ch = await conn.createConfirmChannel();
    // Near AMQP's 64 KiB limit for a header table, so a copy that kept it would not encode.
    ch.publish(env.exchange, "read.cus", Buffer.from("not json"), {
      headers: { pad: "y".repeat(65_300), "x-beds-routing-key": "create.cus", "x-beds-user": "someone" },
    });
    await ch.waitForConfirms();
    const letters = await storedOnce(env, ch);
    const [letter] = JSON.parse(letters.out) as Array<{ routingKey: string; user: string; reason: string }>;
    // The publisher's own x-beds-* headers were not believed: the key is the one it used.
    assert.deepEqual([letter!.routingKey, letter!.reason], ["read.cus", "poison"]);
    assert.notEqual(letter!.user, "someone");
    await ch.close();
  });
});

Deno.test("a request whose error repeats 64 KB of its own text is dead-lettered once, the message clipped", async () => {
  await withNode(async (env, conn) => {
    const ch = await conn.createConfirmChannel();
    // Within max_body_bytes; its unknown key comes back in the error message.
    const key = "k".repeat(env.config.limits.max_body_bytes - 100);
    ch.publish(
      env.exchange,
      "read.cus",
      Buffer.from(JSON.stringify({ template: "cus", op: "read", [key]: 1 })),
    );
    await ch.waitForConfirms();
    const letters = await storedOnce(env, ch);
    const [letter] = JSON.parse(letters.out) as Array<{ errorCode: string; errorMessage: string }>;
    assert.equal(letter!.errorCode, "BAD_REQUEST");
    assert.ok(
      letter!.errorMessage.length <= 1000 && letter!.errorMessage.endsWith("…"),
      String(letter!.errorMessage.length),
    );
    await ch.close();
  });
});

Deno.test("a header table where a number belongs is no attempt count: the request is answered", async () => {
  await withNode(async (env, conn) => {
    const ch = await conn.createChannel();
    const replies: string[] = [];
    await ch.consume("amq.rabbitmq.reply-to", (msg) => msg && replies.push(msg.content.toString()), {
      noAck: true,
    });
    // Decoded, a table with keys valueOf and toString is an object Number() throws on. Sent as the
    // node's own user, whose x-beds-* headers are believed.
    ch.publish(
      env.exchange,
      "read.cus",
      Buffer.from(JSON.stringify({ template: "cus", op: "read", key: { id: 1 } })),
      {
        replyTo: "amq.rabbitmq.reply-to",
        userId: "guest",
        headers: { "x-beds-attempt": { valueOf: 1, toString: 1 } },
      },
    );
    await waitFor(() => Promise.resolve(replies.length === 1), 5_000, "the reply");
    assert.equal(JSON.parse(replies[0]!).ok, true, replies[0]!);
    await ch.close();
  });
});
