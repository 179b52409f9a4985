import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AmqpAnyMessage } from "../../src/amqp/mod.ts";
import { letterDigest, letterId, selectLetter } from "../../src/brokers/dead_letter_ids.ts";

function msg(body: string, properties: object = {}): AmqpAnyMessage {
  return {
    content: Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q.dlq", messageCount: 0 },
    properties: {
      contentType: undefined,
      contentEncoding: undefined,
      headers: {},
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
      ...properties,
    },
  } as unknown as AmqpAnyMessage;
}

Deno.test("letterDigest() names a letter by what it is, not by how often it was taken", async (t) => {
  const letter = msg("{}", {
    messageId: "order-42",
    headers: { "x-beds-event": "e-1", "x-death": [{ count: 1, queue: "q", "routing-keys": ["create.cus"] }] },
  });
  const id = letterId(letterDigest("q.dlq", letter));
  await t.step("16 hex digits", () => assert.match(id, /^[0-9a-f]{16}$/));
  await t.step("the same after RabbitMQ counted deliveries of it", () => {
    const again = msg("{}", {
      messageId: "order-42",
      headers: {
        "x-delivery-count": 7,
        "x-acquired-count": 9,
        "x-death": [{ "routing-keys": ["create.cus"], queue: "q", count: 1 }],
        "x-beds-event": "e-1",
      },
    });
    assert.equal(letterId(letterDigest("q.dlq", again)), id);
  });
  await t.step("different for a letter with the same message_id but another event, body or queue", () => {
    const other = msg("{}", { messageId: "order-42", headers: { "x-beds-event": "e-2" } });
    assert.notEqual(letterId(letterDigest("q.dlq", other)), id);
    assert.notEqual(letterId(letterDigest("q.dlq", msg("{ }", letter.properties))), id);
    assert.notEqual(letterId(letterDigest("r.dlq", letter)), id);
  });
  await t.step("different for the same request in another publisher's name", () => {
    const forged = msg("{}", { ...letter.properties, userId: "mallory" });
    assert.notEqual(letterId(letterDigest("q.dlq", forged)), id);
  });
  await t.step("a letter without message_id has one too; BigInt header values are taken", () => {
    assert.match(
      letterId(letterDigest("q.dlq", msg("x", { headers: { big: 2n ** 70n } }))),
      /^[0-9a-f]{16}$/,
    );
  });
});

Deno.test("selectLetter() picks the one letter an id names, or none when it names several", async (t) => {
  const l = (id: string, messageId: string, digest = id) => ({ letter: { id, messageId }, digest });
  const listed = [l("aaaa", "order-42"), l("bbbb", "order-42"), l("cccc", ""), l("dddd", "single")];
  await t.step("by its own id", () => {
    assert.deepEqual(selectLetter(listed, "bbbb"), {
      kind: "one",
      letter: { id: "bbbb", messageId: "order-42" },
      digest: "bbbb",
    });
  });
  await t.step("a letter without message_id, by its id", () => {
    assert.equal(selectLetter(listed, "cccc").kind, "one");
  });
  await t.step("by a message_id only one letter has", () => {
    assert.deepEqual(selectLetter(listed, "single"), {
      kind: "one",
      letter: { id: "dddd", messageId: "single" },
      digest: "dddd",
    });
  });
  await t.step("a message_id two different letters share: ambiguous, both named", () => {
    assert.deepEqual(selectLetter(listed, "order-42"), {
      kind: "ambiguous",
      matches: [{ id: "aaaa", messageId: "order-42" }, { id: "bbbb", messageId: "order-42" }],
    });
  });
  await t.step("letters alike in every byte are one choice", () => {
    const twins = [l("eeee", "m", "full-e"), l("eeee", "m", "full-e")];
    assert.equal(selectLetter(twins, "eeee").kind, "one");
  });
  await t.step("two letters whose short ids collide but differ: ambiguous", () => {
    assert.equal(selectLetter([l("ffff", "", "full-1"), l("ffff", "", "full-2")], "ffff").kind, "ambiguous");
  });
  await t.step("an id nothing has, or the empty message_id", () => {
    assert.deepEqual(selectLetter(listed, "zzzz"), { kind: "none" });
    assert.deepEqual(selectLetter([l("aaaa", "x")], ""), { kind: "none" });
  });
});
