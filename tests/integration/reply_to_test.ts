/**
 * A node publishes a reply to the default exchange with the request's reply_to as routing key, with
 * its own permissions: a client that may not write to amq.default named a work, delay or
 * dead-letter queue there, and the node wrote the reply into it (consumed as a request and kept as
 * poison, or a letter straight away). Such a request still runs; its reply is not sent.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import {
  adminExchangeName,
  adminNodeKey,
  deadLetterQueueName,
  retryQueueName,
  workQueueName,
} from "../../src/amqp/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { AMQP_URL, createTestEnv, dbQuery, readyCount, startNode, waitFor } from "../helpers/services.ts";

Deno.test("a node sends no reply into BEDS's own queues, and still answers its clients' queues", async () => {
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", `rt-${env.id}`);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const rq = workQueueName(env.queuePrefix, "appServer", "rBroker");
    const wq = workQueueName(env.queuePrefix, "appServer", "wBroker");
    // A queue of a role this node does not run (nodes of all roles share the vhost).
    const other = workQueueName(env.queuePrefix, "segundo", "whBroker");
    await ch.assertQueue(other, { durable: true });
    const { queue: own } = await ch.assertQueue("", { exclusive: true });

    const replies = new Map<string, Reply>();
    const onReply = (msg: amqp.ConsumeMessage | null) => {
      if (msg) replies.set(msg.properties.correlationId, JSON.parse(msg.content.toString("utf8")));
    };
    await ch.consume("amq.rabbitmq.reply-to", onReply, { noAck: true });
    await ch.consume(own, onReply, { noAck: true });

    const create = (label: string, replyTo: string) => {
      const email = `rt.${label}.${env.id}@example.com`;
      ch.publish(
        env.exchange,
        "create.cus",
        Buffer.from(JSON.stringify({ template: "cus", op: "create", data: { email, name: label } })),
        { replyTo, correlationId: label, contentType: "application/json" },
      );
      return email;
    };
    const created = async (email: string) =>
      (await dbQuery(env, "SELECT id FROM customers WHERE email = ?", [email])).length === 1;

    const refused = {
      work_queue: rq,
      dead_letter_queue: deadLetterQueueName(wq),
      delay_queue: retryQueueName(wq, 0),
      other_role: other,
    };
    for (const [label, replyTo] of Object.entries(refused)) {
      const email = create(label, replyTo);
      await waitFor(() => created(email), 10_000, `the ${label} request to run`);
    }
    const direct = create("direct", "amq.rabbitmq.reply-to");
    const mine = create("own_queue", own);
    await waitFor(() => replies.has("direct") && replies.has("own_queue"), 10_000, "the clients' replies");
    assert.ok(await created(direct) && await created(mine));
    assert.equal(replies.get("direct")!.ok, true);
    assert.equal(replies.get("own_queue")!.ok, true);

    // The node's admin listener too: a status command's reply aimed at a BEDS queue is not sent.
    const admin = (correlationId: string, replyTo: string) =>
      ch.publish(
        adminExchangeName(env.exchange),
        adminNodeKey(`rt-${env.id}`),
        Buffer.from('{"command":"status"}'),
        {
          replyTo,
          correlationId,
          contentType: "application/json",
        },
      );
    admin("admin_to_queue", other);
    admin("admin_direct", "amq.rabbitmq.reply-to");
    await waitFor(() => Promise.resolve(replies.has("admin_direct")), 10_000, "the admin reply");

    // Long enough for a reply left in the delay queue to expire back into its work queue, and for one
    // consumed from a work queue to be dead-lettered as poison.
    await new Promise((r) => setTimeout(r, 2500));
    const counts = {
      [rq]: await readyCount(rq),
      [deadLetterQueueName(rq)]: await readyCount(deadLetterQueueName(rq)),
      [wq]: await readyCount(wq),
      [deadLetterQueueName(wq)]: await readyCount(deadLetterQueueName(wq)),
      [retryQueueName(wq, 0)]: await readyCount(retryQueueName(wq, 0)),
      [other]: await readyCount(other),
    };
    assert.deepEqual(Object.values(counts), [0, 0, 0, 0, 0, 0], JSON.stringify(counts));
    assert.deepEqual([...replies.keys()].sort(), ["admin_direct", "direct", "own_queue"]);
  } finally {
    await conn.close().catch(() => {});
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
