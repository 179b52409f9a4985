/**
 * A sweep of a dead-letter queue gives back every letter it took and did not ack with one
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
      return Promise.resolve({
        on() {},
        checkQueue: () => Promise.resolve({ messageCount: queue.length }),
        get: () => Promise.resolve(i < queue.length ? letter(queue[i++]!) : false),
        ack: () => log.push("ack"),
        nackAll: (requeue: boolean) => log.push(`nackAll ${requeue} after ${i} taken`),
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
    // The listing sweep first, then the replay's: each ends with a nack of what it holds.
    const replaySweep = log.slice(log.lastIndexOf("close", log.length - 2) + 1);
    assert.equal(replaySweep.at(-1), "close");
    assert.match(
      replaySweep.at(-2) ?? "",
      /^nackAll true after [12] taken$/,
      `${queue}: ${JSON.stringify(log)}`,
    );
  }
});
