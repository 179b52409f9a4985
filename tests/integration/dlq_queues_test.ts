/**
 * The dead-letter queues themselves: `dlq list` and `purge` report a queue they cannot read
 * instead of an empty one, and a quorum DLQ is declared so that no delivery limit (RabbitMQ 4's
 * default of 20) deletes letters each listing gives back, without failing a node whose DLQ was
 * declared before with other arguments. A quorum broker's delay queues and work queue dead-letter at
 * least once, and queues an earlier BEDS declared otherwise are kept with a warning.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import {
  type AmqpChannel,
  deadLetterQueueName,
  declareTopology,
  retryQueueName,
  workQueueName,
} from "../../src/amqp/mod.ts";
import { retryQueueArguments, workQueueArguments } from "../../src/amqp/topology.ts";
import { AMQP_URL, cli, createTestEnv, readyCount, type TestEnv } from "../helpers/services.ts";
import { createAmqpUser } from "../helpers/amqp_users.ts";

Deno.test("dlq list and purge report a DLQ they may not read, and skip one that does not exist", async () => {
  const env = await createTestEnv();
  const dlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
  const conn = await amqp.connect(AMQP_URL);
  // An operator account that may configure and write, but whose read permission leaves out the DLQs.
  const operator = await createAmqpUser(`beds_t_op_${env.id}`, "pw", {
    configure: ".*",
    write: ".*",
    read: "^(?!.*\\.dlq$).*",
  });
  const environ = { BEDS_AMQP_USER: operator.user, BEDS_AMQP_PASS: operator.password };
  const args = ["--role", "appServer", "--broker", "wBroker", ...env.cliArgs];
  try {
    const empty = await cli(["dlq", "list", ...args]);
    assert.equal(empty.code, 0, empty.err);
    assert.match(empty.out, /^0 dead letter\(s\)$/m, "a queue that does not exist holds nothing");
    const emptyPurge = await cli(["dlq", "purge", "--yes", ...args]);
    assert.equal(emptyPurge.code, 0, emptyPurge.err);

    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(dlq, { durable: true, arguments: { "x-queue-type": "quorum" } });
    ch.sendToQueue(dlq, Buffer.from("{}"), {
      messageId: "l-1",
      headers: { "x-beds-routing-key": "create.cus" },
    });
    await ch.waitForConfirms();

    const list = await cli(["dlq", "list", ...args], environ);
    assert.equal(list.code, 1, list.out);
    assert.doesNotMatch(list.out, /dead letter\(s\)/);
    assert.match(
      list.err,
      new RegExp(`Dead-letter queue "${dlq.replaceAll(".", "\\.")}" cannot be read: .*ACCESS_REFUSED`),
    );
    const json = await cli(["dlq", "list", "--json", ...args], environ);
    assert.equal(json.code, 1, json.out);
    assert.equal(json.out, "");

    const purge = await cli(["dlq", "purge", "--yes", ...args], environ);
    assert.equal(purge.code, 1, purge.out);
    assert.match(purge.err, /cannot be purged: .*ACCESS_REFUSED/);
    assert.equal(await readyCount(dlq), 1, "the letter is still there");

    const replay = await cli(["dlq", "replay", "--all", ...args], environ);
    assert.equal(replay.code, 1, replay.out);
    assert.match(replay.err, /cannot be read: .*ACCESS_REFUSED/);
    assert.equal(await readyCount(dlq), 1);
  } finally {
    await operator.drop();
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

/** The topology of the appServer role's wBroker alone, as a node declares it. */
function wBrokerTopology(env: TestEnv) {
  return {
    exchange: env.config.amqp.exchange,
    queuePrefix: env.queuePrefix,
    role: "appServer",
    brokers: [{ name: "wBroker", config: env.config.brokers.wBroker! }],
  };
}

/** `channel`, as a channel of a server that says it is `version` of RabbitMQ. */
function asServer(channel: AmqpChannel, version: string): AmqpChannel {
  const connection = { serverProperties: { product: "RabbitMQ", version } };
  return new Proxy(channel, {
    get(target, name) {
      if (name === "connection") return connection;
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The arguments RabbitMQ keeps for `queue`, as `rabbitmqctl list_queues` prints them. */
async function queueArguments(queue: string): Promise<string> {
  const out = await new Deno.Command("rabbitmqctl", {
    args: ["list_queues", "-q", "--no-table-headers", "name", "arguments"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith(`${queue}\t`));
  assert.ok(line, `queue ${queue} not listed`);
  return line.slice(queue.length + 1);
}

Deno.test("a quorum DLQ is declared without a delivery limit on RabbitMQ 4, and one declared before is kept", async (t) => {
  const env = await createTestEnv();
  const conn = await amqp.connect(AMQP_URL);
  const broker = env.config.brokers.wBroker!;
  assert.equal(broker.queue_type, "quorum");
  const spec = wBrokerTopology(env);
  const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const dlq = deadLetterQueueName(work);
  try {
    await t.step(
      "RabbitMQ 3 (this one): as before, no limit set (-1 would delete a letter given back)",
      async () => {
        const ch = await conn.createChannel();
        await declareTopology(ch, spec);
        await ch.close();
        assert.doesNotMatch(await queueArguments(dlq), /x-delivery-limit/);
      },
    );

    await t.step(
      "a DLQ declared before without the limit: kept, with a warning, and the node starts",
      async () => {
        const ch = await conn.createConfirmChannel();
        ch.sendToQueue(dlq, Buffer.from("{}"), { messageId: "kept-1" });
        await ch.waitForConfirms();
        const warnings: Array<[string, Record<string, unknown>]> = [];
        const declared = await declareTopology(asServer(ch, "4.1.0"), {
          ...spec,
          openChannel: () => conn.createChannel(),
          onWarning: (message, details) => warnings.push([message, details]),
        });
        assert.equal(declared[0]!.deadLetterQueue, dlq);
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]![1].queue, dlq);
        assert.match(warnings[0]![0], /delivery limit applies to it/);
        assert.match(String(warnings[0]![1].err), /PRECONDITION_FAILED/);
        // The channel the rest was declared on is still open, and the letter is where it was.
        assert.equal((await ch.checkQueue(dlq)).messageCount, 1);
        await ch.close();
      },
    );

    await t.step("RabbitMQ 4, a new DLQ: x-delivery-limit -1 (no limit)", async () => {
      const ch = await conn.createChannel();
      await ch.deleteQueue(dlq);
      const warnings: string[] = [];
      await declareTopology(asServer(ch, "4.1.0"), {
        ...spec,
        openChannel: () => conn.createChannel(),
        onWarning: (message) => warnings.push(message),
      });
      assert.deepEqual(warnings, []);
      // Deleted at once: RabbitMQ 3 reads -1 as "no letter may come back".
      const args = await queueArguments(dlq);
      await ch.deleteQueue(dlq);
      await ch.close();
      assert.match(args, /\{"x-delivery-limit",-1\}/);
      assert.match(args, /\{"x-queue-type","quorum"\}/);
    });

    await t.step("a DLQ that differs in anything else (its type) still fails the declaration", async () => {
      const ch = await conn.createChannel();
      await ch.assertQueue(dlq, { durable: true, arguments: { "x-queue-type": "classic" } });
      const warnings: string[] = [];
      await assert.rejects(
        declareTopology(asServer(ch, "4.1.0"), {
          ...spec,
          openChannel: () => conn.createChannel(),
          onWarning: (message) => warnings.push(message),
        }),
        /PRECONDITION_FAILED - inequivalent arg/,
      );
      assert.deepEqual(warnings, []);
      const cleanup = await conn.createChannel();
      await cleanup.deleteQueue(dlq);
      await cleanup.close();
    });
  } finally {
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("a quorum broker's delay queues are quorum, dead-lettering at least once; classic ones of before are kept", async (t) => {
  const env = await createTestEnv();
  const conn = await amqp.connect(AMQP_URL);
  const broker = env.config.brokers.wBroker!;
  assert.equal(broker.queue_type, "quorum");
  const spec = wBrokerTopology(env);
  const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const retry = retryQueueName(work, 0);
  try {
    await t.step("new: quorum, at-least-once dead-lettering back to the work queue", async () => {
      const ch = await conn.createChannel();
      await declareTopology(ch, spec);
      await ch.close();
      const args = await queueArguments(retry);
      assert.match(args, /\{"x-queue-type","quorum"\}/);
      assert.match(args, /\{"x-dead-letter-strategy","at-least-once"\}/);
      assert.match(args, /\{"x-overflow","reject-publish"\}/);
      assert.match(args, new RegExp(`\\{"x-dead-letter-routing-key","${work.replaceAll(".", "\\.")}"\\}`));
    });
    await t.step("one declared classic before: kept, with a warning, and the node starts", async () => {
      const ch = await conn.createChannel();
      for (const [tier, ttl] of broker.retry_delays_ms.entries()) {
        const queue = retryQueueName(work, tier);
        await ch.deleteQueue(queue);
        await ch.assertQueue(queue, { durable: true, arguments: retryQueueArguments("classic", ttl, work) });
      }
      const warnings: Array<[string, Record<string, unknown>]> = [];
      await declareTopology(ch, {
        ...spec,
        openChannel: () => conn.createChannel(),
        onWarning: (message, details) => warnings.push([message, details]),
      });
      await ch.close();
      assert.equal(warnings.length, broker.retry_delays_ms.length);
      assert.equal(warnings[0]![1].queue, retry);
      assert.match(warnings[0]![0], /a classic delay queue, whose copies RabbitMQ may drop when it restarts/);
      assert.match(await queueArguments(retry), /\{"x-queue-type","classic"\}/);
    });
  } finally {
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("a quorum work queue dead-letters at least once; one declared at most once before is kept", async (t) => {
  const env = await createTestEnv();
  const conn = await amqp.connect(AMQP_URL);
  const broker = env.config.brokers.wBroker!;
  const spec = wBrokerTopology(env);
  const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
  const dlq = deadLetterQueueName(work);
  try {
    await t.step("new: at-least-once dead-lettering into its DLQ", async () => {
      const ch = await conn.createChannel();
      await declareTopology(ch, spec);
      await ch.close();
      const args = await queueArguments(work);
      assert.match(args, /\{"x-dead-letter-strategy","at-least-once"\}/);
      assert.match(args, /\{"x-overflow","reject-publish"\}/);
      assert.match(args, new RegExp(`\\{"x-delivery-limit",${broker.delivery_limit}\\}`));
      assert.match(args, new RegExp(`\\{"x-dead-letter-routing-key","${dlq.replaceAll(".", "\\.")}"\\}`));
    });
    await t.step(
      "one declared at most once before: kept, with a warning, and declared again unchanged",
      async () => {
        const ch = await conn.createChannel();
        await ch.deleteQueue(work);
        await ch.assertQueue(work, {
          durable: true,
          arguments: workQueueArguments(broker, dlq, "at-most-once"),
        });
        const warnings: Array<[string, Record<string, unknown>]> = [];
        await declareTopology(ch, {
          ...spec,
          openChannel: () => conn.createChannel(),
          onWarning: (message, details) => warnings.push([message, details]),
        });
        await ch.close();
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]![1].queue, work);
        assert.match(warnings[0]![0], /a work queue dead-lettering at most once/);
        assert.doesNotMatch(await queueArguments(work), /x-dead-letter-strategy/);
      },
    );
  } finally {
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("dlq list shows a letter whose request was redelivered before it failed: it may have run", async () => {
  const env = await createTestEnv();
  const dlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "wBroker"));
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await declareTopology(ch, wBrokerTopology(env));
    // As a node stores it: with the nodes' user, so its headers are believed.
    for (const [id, redelivered] of [["again-1", true], ["once-1", undefined]] as const) {
      ch.sendToQueue(dlq, Buffer.from('{"template":"prd","op":"create","data":{}}'), {
        messageId: id,
        userId: "guest",
        headers: {
          "x-beds-routing-key": "create.prd",
          "x-beds-reason": "unanswered_write",
          "x-beds-error-code": "CONFLICT",
          ...(redelivered ? { "x-beds-redelivered": true } : {}),
        },
      });
    }
    await ch.waitForConfirms();
    await ch.close();
    const args = ["--role", "appServer", "--broker", "wBroker", ...env.cliArgs];
    const json = await cli(["dlq", "list", "--json", ...args]);
    assert.equal(json.code, 0, json.err);
    const letters = JSON.parse(json.out) as Array<{ messageId: string; redelivered: boolean }>;
    assert.deepEqual(letters.map((l) => [l.messageId, l.redelivered]).sort(), [["again-1", true], [
      "once-1",
      false,
    ]]);
    const text = await cli(["dlq", "list", ...args]);
    const line = (id: string) => text.out.split("\n").find((l) => l.includes(`message_id=${id}`)) ?? "";
    assert.match(line("again-1"), /\(redelivered: it may have run before\)/);
    assert.doesNotMatch(line("once-1"), /redelivered/);
  } finally {
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});
