/**
 * A sweep of a dead-letter queue gives back every letter it took and did not ack with
 * `basic.nack`, the letter it stopped at included: given back by the channel's close instead, a
 * letter counts a delivery against a quorum queue's limit (RabbitMQ 4.3 on), and may be deleted.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AmqpConnection } from "../../src/amqp/mod.ts";
import { replayDeadLetters } from "../../src/brokers/dead_letter_replay.ts";

/** A letter whose routing key its broker no longer binds: replay keeps it, and stops there for --id. */
const letter = (n: number) => ({
  fields: { routingKey: "q.dlq", deliveryTag: n, redelivered: false, exchange: "" },
  properties: { messageId: `m${n}`, headers: { "x-beds-routing-key": "create.gone" } },
  content: Buffer.from(`{"n":${n}}`),
});

/** A connection over one queue of letters, logging what the sweep's channel is told. */
function fakeConnection(queue: number[], log: string[]): AmqpConnection {
  return {
    createChannel: () => {
      let i = 0;
      // The sweep holds the queue with a consumer (here handed nothing: every letter is fetched).
      let consumers = 0;
      return Promise.resolve({
        on() {},
        prefetch: () => Promise.resolve(),
        consume: () => Promise.resolve({ consumerTag: `c${++consumers}` }),
        cancel: () => Promise.resolve(consumers--),
        checkQueue: () => Promise.resolve({ messageCount: queue.length - i, consumerCount: consumers }),
        get: () => Promise.resolve(i < queue.length ? letter(queue[i++]!) : false),
        // tx.select (5898250) and tx.commit (5898260): the replay's channel is in a transaction.
        rpc: (method: number) => Promise.resolve(method === 5898260 && log.push("commit")),
        ack: () => log.push("ack"),
        nack: (msg: ReturnType<typeof letter>, allUpTo: boolean, requeue: boolean) =>
          log.push(`nack ${msg.properties.messageId} ${allUpTo} ${requeue}`),
        close: () => Promise.resolve(log.push("close")),
      });
    },
    createConfirmChannel: () => Promise.resolve({ on() {}, publish() {}, close: () => Promise.resolve() }),
  } as unknown as AmqpConnection;
}

Deno.test("replay --id gives back the letter it names with basic.nack, first in its queue or not", async () => {
  for (const queue of [[1, 2], [2, 1]]) {
    const log: string[] = [];
    const result = await replayDeadLetters(fakeConnection(queue, log), {
      queues: [{ queue: "q.dlq", exchange: "x", bindings: ["read.*"] }],
      id: "m1",
      userId: "guest",
    });
    assert.equal(result.replayed.length, 0, JSON.stringify(queue));
    // The listing sweep first, then the replay's: each ends with a nack of each letter it holds,
    // which the replay's transaction commits.
    const replaySweep = log.slice(log.lastIndexOf("close", log.length - 2) + 1);
    assert.deepEqual(replaySweep.slice(-2), ["commit", "close"], JSON.stringify(log));
    const nacks = replaySweep.filter((line) => line.startsWith("nack"));
    assert.ok(nacks.includes("nack m1 false true"), `${queue}: ${JSON.stringify(log)}`);
    assert.equal(nacks.length, queue.indexOf(1) + 1, "each letter taken is given back");
  }
});

Deno.test("a letter handed to the sweep's consumer and never taken is given back with basic.nack too", async () => {
  const log: string[] = [];
  const connection = fakeConnection([1], log);
  const createChannel = connection.createChannel.bind(connection);
  // In the replay's sweep (the second channel, after the listing's), the queue pushes letter 9 to
  // the hold's consumer once letter 1 has been fetched: one that came back after the count.
  let channels = 0;
  connection.createChannel = async () => {
    const channel = await createChannel() as unknown as Record<string, (...args: unknown[]) => unknown>;
    if (++channels < 2) return channel as unknown as Awaited<ReturnType<typeof createChannel>>;
    let push: ((msg: unknown) => void) | undefined;
    const consume = channel.consume!;
    channel.consume = (queue: unknown, handler: unknown, options: unknown) => {
      push = handler as (msg: unknown) => void;
      return consume(queue, handler, options);
    };
    const get = channel.get!;
    channel.get = async (...args: unknown[]) => {
      const msg = await get(...args);
      if (msg) push?.(letter(9));
      return msg;
    };
    return channel as unknown as Awaited<ReturnType<typeof createChannel>>;
  };
  await replayDeadLetters(connection, {
    queues: [{ queue: "q.dlq", exchange: "x", bindings: ["read.*"] }],
    id: "m1",
    userId: "guest",
  });
  assert.ok(log.includes("nack m9 false true"), JSON.stringify(log));
});
