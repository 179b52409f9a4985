import assert from "node:assert/strict";
import fc from "fast-check";
import type { AmqpMessage } from "../../src/amqp/mod.ts";
import { createAcks } from "../../src/brokers/acks.ts";

/** What the channel was told, as RabbitMQ would read it. */
type Frame = { ack: number; multiple: boolean } | { nack: number; requeue: boolean };

function delivery(tag: number): AmqpMessage {
  return {
    fields: { deliveryTag: tag },
    properties: {},
    content: new Uint8Array(),
  } as unknown as AmqpMessage;
}

function fakeChannel() {
  const frames: Frame[] = [];
  return {
    frames,
    ack: (msg: AmqpMessage, multiple = false) => frames.push({ ack: msg.fields.deliveryTag, multiple }),
    nack: (msg: AmqpMessage, _all = false, requeue = true) =>
      frames.push({ nack: msg.fields.deliveryTag, requeue }),
  };
}

const noError = (error: unknown) => assert.fail(`unexpected ack failure: ${error}`);
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("deliveries done in order within a turn leave as one multiple ack", async () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  const msgs = [1, 2, 3, 4, 5].map(delivery);
  for (const msg of msgs) acks.received(msg);
  for (const msg of msgs) acks.ack(msg);
  assert.deepEqual(channel.frames, [], "nothing is sent before the turn's flush");
  await turn();
  assert.deepEqual(channel.frames, [{ ack: 5, multiple: true }]);
  assert.equal(acks.outstanding(), 0);
});

Deno.test("a delivery done behind one still running is acked alone, at once, not held", async () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  const [m1, m2, m3, m4] = [1, 2, 3, 4].map(delivery);
  for (const msg of [m1!, m2!, m3!, m4!]) acks.received(msg);
  acks.ack(m2!);
  acks.ack(m3!);
  await turn();
  assert.deepEqual(channel.frames, [{ ack: 2, multiple: false }, { ack: 3, multiple: false }]);
  assert.equal(acks.outstanding(), 2);
  acks.ack(m1!);
  await turn();
  // The multiple ack names 1, the last unacked one of the run: 2 and 3 are no longer outstanding.
  assert.deepEqual(channel.frames.slice(2), [{ ack: 1, multiple: true }]);
  acks.ack(m4!);
  await turn();
  assert.deepEqual(channel.frames.slice(3), [{ ack: 4, multiple: true }]);
  assert.equal(acks.outstanding(), 0);
});

Deno.test("a nack leaves at once and is never acked afterwards", async () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  const [m1, m2] = [1, 2].map(delivery);
  acks.received(m1!);
  acks.received(m2!);
  acks.nack(m1!, true);
  assert.deepEqual(channel.frames, [{ nack: 1, requeue: true }]);
  acks.ack(m1!);
  acks.ack(m2!);
  await turn();
  assert.deepEqual(channel.frames.slice(1), [{ ack: 2, multiple: true }]);
  assert.equal(acks.outstanding(), 0);
});

Deno.test("an ack the channel refuses is reported, not thrown", async () => {
  const failures: unknown[] = [];
  const acks = createAcks({
    ack: () => {
      throw new Error("Channel closed");
    },
    nack: () => {
      throw new Error("Channel closed");
    },
  }, (error) => failures.push(error));
  const [m1, m2] = [1, 2].map(delivery);
  acks.received(m1!);
  acks.received(m2!);
  acks.ack(m1!);
  await turn();
  acks.nack(m2!, true);
  assert.deepEqual(failures.map((e) => (e as Error).message), ["Channel closed", "Channel closed"]);
});

Deno.test("flush() sends what is due at once (before a channel closes)", () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  const msg = delivery(1);
  acks.received(msg);
  acks.ack(msg);
  acks.flush();
  assert.deepEqual(channel.frames, [{ ack: 1, multiple: true }]);
});

/**
 * Any order of completions, rejections and turns, checked against RabbitMQ's rules: an ack or nack
 * must name an outstanding delivery (else RabbitMQ closes the channel), a multiple ack settles every
 * outstanding delivery up to its tag, so it must never reach one still being handled, and in the end
 * every delivery is settled exactly once.
 */
Deno.test("property: acks never settle a running delivery, never name a settled one, and settle all", async () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant("done" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("nack" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("receive" as const), count: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("turn" as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 400 }), async (steps) => {
      const outstanding = new Set<number>();
      const running = new Set<number>();
      const settledBy = new Map<number, string>();
      const settle = (tag: number, how: string) => {
        assert.ok(!settledBy.has(tag), `delivery ${tag} settled twice`);
        assert.ok(!running.has(tag), `delivery ${tag} settled while still being handled`);
        outstanding.delete(tag);
        settledBy.set(tag, how);
      };
      const channel = {
        ack(msg: AmqpMessage, multiple = false) {
          const tag = msg.fields.deliveryTag;
          assert.ok(outstanding.has(tag), `ack of ${tag}, which is not outstanding`);
          if (!multiple) return settle(tag, "ack");
          for (const t of [...outstanding].filter((t) => t <= tag)) settle(t, "ack");
        },
        nack(msg: AmqpMessage) {
          const tag = msg.fields.deliveryTag;
          assert.ok(outstanding.has(tag), `nack of ${tag}, which is not outstanding`);
          settle(tag, "nack");
        },
      };
      const acks = createAcks(channel, noError);
      const msgs = new Map<number, AmqpMessage>();
      let next = 1;
      const receive = (count: number) => {
        for (let i = 0; i < count; i++) {
          const msg = delivery(next);
          msgs.set(next, msg);
          outstanding.add(next);
          running.add(next);
          acks.received(msg);
          next++;
        }
      };
      const finish = (tag: number, how: "done" | "nack") => {
        running.delete(tag);
        if (how === "done") acks.ack(msgs.get(tag)!);
        else acks.nack(msgs.get(tag)!, true);
      };
      for (const s of steps) {
        if (s.kind === "receive") receive(s.count);
        else if (s.kind === "turn") await Promise.resolve();
        else if (running.size) {
          const tags = [...running];
          finish(tags[s.pick % tags.length]!, s.kind);
        }
      }
      for (const tag of [...running]) finish(tag, "done");
      await Promise.resolve();
      acks.flush();
      assert.equal(outstanding.size, 0, "every delivery is settled");
      assert.equal(settledBy.size, next - 1);
      assert.equal(acks.outstanding(), 0);
    }),
    { numRuns: 300 },
  );
});

Deno.test("a delivery held long at the head does not keep the ones settled behind it", async () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  const slow = delivery(1);
  acks.received(slow);
  for (let tag = 2; tag <= 3001; tag++) {
    const msg = delivery(tag);
    acks.received(msg);
    acks.ack(msg);
    if (tag % 100 === 0) await turn();
  }
  await turn();
  assert.equal(channel.frames.length, 3000, "each acked alone while the first runs");
  assert.ok(channel.frames.every((f) => "ack" in f && !f.multiple));
  assert.equal(acks.outstanding(), 1);
  acks.ack(slow);
  await turn();
  assert.deepEqual(channel.frames.at(-1), { ack: 1, multiple: true });
  assert.equal(acks.outstanding(), 0);
});

Deno.test("under a steady overlapping load the tracker holds only what is in flight", async () => {
  const channel = fakeChannel();
  const acks = createAcks(channel, noError);
  // Each delivery arrives before the one before it is done, so the channel is never idle at a flush.
  let previous = delivery(1);
  acks.received(previous);
  let most = 0;
  for (let tag = 2; tag <= 20_000; tag++) {
    const msg = delivery(tag);
    acks.received(msg);
    acks.ack(previous);
    await Promise.resolve();
    most = Math.max(most, acks.held());
    previous = msg;
  }
  assert.equal(acks.outstanding(), 1);
  assert.ok(most <= 2100, `held at most ${most} deliveries with one in flight`);
  assert.equal(channel.frames.length, 19_999);
});

Deno.test("the tracker keeps delivery tags, not the messages (their content holds the socket's chunk)", async () => {
  const sent: AmqpMessage[] = [];
  const acks = createAcks({ ack: (msg: AmqpMessage) => void sent.push(msg), nack: () => {} }, noError);
  const [m1, m2, m3] = [1, 2, 3].map(delivery);
  for (const msg of [m1!, m2!, m3!]) acks.received(msg);
  acks.ack(m2!);
  acks.ack(m1!);
  await turn();
  assert.deepEqual(sent.map((m) => m.fields.deliveryTag), [2]);
  assert.ok(sent.every((m) => m !== m1 && m !== m2 && !("content" in m)), "acks name the tag only");
});
