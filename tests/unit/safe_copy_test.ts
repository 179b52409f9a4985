import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type AmqpMessage, HEADERS, type SideChannel } from "../../src/amqp/mod.ts";
import { type CopyInput, type CopyTarget, storeSafeCopy } from "../../src/brokers/safe_copy.ts";
import type { Disposition } from "../../src/brokers/retry_policy.ts";

type Published = { queue: string; content: Buffer; options: Record<string, unknown> };

function target(fail = false): CopyTarget & { published: Published[] } {
  const published: Published[] = [];
  const side: SideChannel = {
    publish(queue, content, options) {
      if (fail) return Promise.reject(new Error("not confirmed"));
      published.push({ queue, content, options: options as Record<string, unknown> });
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return {
    side,
    route: {
      retryQueues: ["q.retry.0", "q.retry.1"],
      retryDelaysMs: [100, 1000],
      maxAttempts: 3,
      deadLetterQueue: "q.dlq",
    },
    queue: "q.work",
    nodeUser: "beds-node",
    published,
  };
}

const msg = {
  content: Buffer.from('{"template":"prd","op":"create"}'),
  fields: { routingKey: "create.prd" },
  properties: {
    contentType: "application/json",
    correlationId: "c-1",
    replyTo: "amq.rabbitmq.reply-to.x",
    messageId: "m-1",
    timestamp: 1700000000,
    headers: { "x-custom": "kept" },
  },
} as unknown as AmqpMessage;

const input = (disposition: Disposition, extra: Partial<CopyInput> = {}): CopyInput => ({
  msg,
  disposition,
  attempt: 1,
  code: "DB_UNAVAILABLE",
  message: "Database unavailable; try again",
  event: "e-1",
  user: "ann",
  ...extra,
});

Deno.test("storeSafeCopy() sends a retry to its tier with the next attempt and the first event", async () => {
  const t = target();
  await storeSafeCopy(
    input({ action: "retry", tier: 1, delayMs: 1000 }, { attempt: 2, rootEvent: "e-0" }),
    t,
  );
  assert.equal(t.published.length, 1);
  const [copy] = t.published;
  assert.equal(copy!.queue, "q.retry.1");
  assert.deepEqual(copy!.content, msg.content);
  assert.equal(copy!.options.userId, "beds-node");
  assert.equal(copy!.options.correlationId, "c-1");
  assert.equal(copy!.options.replyTo, "amq.rabbitmq.reply-to.x");
  // Only what a retry or a replay reads: none of the publisher's own headers.
  assert.deepEqual(copy!.options.headers, {
    [HEADERS.user]: "ann",
    [HEADERS.routingKey]: "create.prd",
    [HEADERS.queue]: "q.work",
    [HEADERS.attempt]: 3,
    [HEADERS.errorCode]: "DB_UNAVAILABLE",
    [HEADERS.errorMessage]: "Database unavailable; try again",
    [HEADERS.event]: "e-0",
  });
});

Deno.test("storeSafeCopy() dead-letters with the reason and the time, keeping the original routing key", async () => {
  const t = target();
  const retried = {
    ...msg,
    fields: { routingKey: "q.retry.0" },
    // A retry copy the node stored itself: its user_id is the node's.
    properties: { ...msg.properties, userId: "beds-node", headers: { [HEADERS.routingKey]: "create.prd" } },
  } as unknown as AmqpMessage;
  await storeSafeCopy(
    input({ action: "dead_letter", reason: "retries_exhausted" }, { msg: retried, attempt: 3 }),
    t,
  );
  const headers = t.published[0]!.options.headers as Record<string, unknown>;
  assert.equal(t.published[0]!.queue, "q.dlq");
  assert.equal(headers[HEADERS.routingKey], "create.prd");
  assert.equal(headers[HEADERS.attempt], 3);
  assert.equal(headers[HEADERS.event], "e-1");
  assert.equal(headers["x-beds-reason"], "retries_exhausted");
  assert.ok(!Number.isNaN(Date.parse(String(headers[HEADERS.deadAt]))));
});

Deno.test("storeSafeCopy() marks a dead letter whose delivery was a redelivery: it may have run before", async () => {
  for (const redelivered of [false, true]) {
    const t = target();
    const again = { ...msg, fields: { ...msg.fields, redelivered } } as unknown as AmqpMessage;
    await storeSafeCopy(
      input({ action: "dead_letter", reason: "unanswered_write" }, { msg: again, code: "CONFLICT" }),
      t,
    );
    const headers = t.published[0]!.options.headers as Record<string, unknown>;
    assert.equal(headers[HEADERS.redelivered], redelivered ? true : undefined);
  }
});

Deno.test("storeSafeCopy() carries a redelivery through the retry tiers to the dead letter", async () => {
  const headersOf = (t: ReturnType<typeof target>) =>
    t.published[0]!.options.headers as Record<string, unknown>;
  // Attempt 1 was redelivered: its retry copy says so.
  const first = target();
  const again = { ...msg, fields: { ...msg.fields, redelivered: true } } as unknown as AmqpMessage;
  await storeSafeCopy(input({ action: "retry", tier: 0, delayMs: 100 }, { msg: again }), first);
  assert.equal(headersOf(first)[HEADERS.redelivered], true);
  // Attempt 2 comes from the delay queue, not redelivered: its dead letter still says so.
  const copy = {
    ...msg,
    fields: { ...msg.fields, redelivered: false },
    properties: { ...msg.properties, userId: "beds-node", headers: headersOf(first) },
  } as unknown as AmqpMessage;
  const last = target();
  await storeSafeCopy(
    input({ action: "dead_letter", reason: "unanswered_write" }, { msg: copy, attempt: 2, code: "CONFLICT" }),
    last,
  );
  assert.equal(headersOf(last)[HEADERS.redelivered], true);
  // Believed only from the node's own copies, as every x-beds-* header.
  const forged = target();
  const claimed = {
    ...copy,
    properties: { ...copy.properties, userId: "someone" },
  } as unknown as AmqpMessage;
  await storeSafeCopy(input({ action: "dead_letter", reason: "poison" }, { msg: claimed }), forged);
  assert.equal(headersOf(forged)[HEADERS.redelivered], undefined);
});

Deno.test("storeSafeCopy() stores nothing for a reply, and rejects when the copy is not confirmed", async () => {
  const t = target();
  await storeSafeCopy(input({ action: "reply" }), t);
  assert.equal(t.published.length, 0);
  await assert.rejects(
    storeSafeCopy(input({ action: "dead_letter", reason: "poison" }), target(true)),
    /not confirmed/,
  );
});

Deno.test("storeSafeCopy() believes a routing-key header only on the node's own copies", async () => {
  const t = target();
  const claimed = {
    ...msg,
    fields: { routingKey: "read.prd" },
    properties: { ...msg.properties, userId: "someone", headers: { [HEADERS.routingKey]: "create.cus" } },
  } as unknown as AmqpMessage;
  await storeSafeCopy(input({ action: "dead_letter", reason: "poison" }, { msg: claimed }), t);
  assert.equal((t.published[0]!.options.headers as Record<string, unknown>)[HEADERS.routingKey], "read.prd");
});

Deno.test("storeSafeCopy() names an anonymous requester as such, and drops properties too long to send", async () => {
  const t = target();
  const long = {
    ...msg,
    properties: { ...msg.properties, correlationId: "\ufffd".repeat(100), messageId: "x".repeat(300) },
  } as unknown as AmqpMessage;
  await storeSafeCopy(input({ action: "dead_letter", reason: "poison" }, { msg: long, user: undefined }), t);
  const options = t.published[0]!.options;
  assert.equal((options.headers as Record<string, unknown>)[HEADERS.user], "");
  assert.equal(options.correlationId, undefined);
  assert.match(String(options.messageId), /^[0-9a-f-]{36}$/);
});

Deno.test("storeSafeCopy() keeps a timestamp it can send again, and drops one amqplib read rounded past 2^64", async () => {
  const t = target();
  await storeSafeCopy(input({ action: "dead_letter", reason: "poison" }), t);
  assert.equal(t.published[0]!.options.timestamp, 1700000000);
  // Sent as 2^64 - 1, read by amqplib as the number 2^64, which it cannot encode: kept, the copy
  // would fail for ever and the delivery never be settled.
  const rounded = { ...msg, properties: { ...msg.properties, timestamp: 2 ** 64 } } as unknown as AmqpMessage;
  await storeSafeCopy(input({ action: "dead_letter", reason: "poison" }, { msg: rounded }), t);
  assert.equal(t.published[1]!.options.timestamp, undefined);
});
