import assert from "node:assert/strict";
import { decide, type DecisionInput } from "../../src/brokers/retry_policy.ts";

const base: DecisionInput = {
  code: undefined,
  op: "create",
  attempt: 1,
  retryDelaysMs: [100, 200],
  maxAttempts: 3,
  now: 1_000,
  hasReplyTo: true,
};

Deno.test("decide() keeps a fire-and-forget write refused for its deadline in the DLQ, as 'deadline'", async (t) => {
  await t.step("fire-and-forget write: dead-lettered, never dropped", () => {
    assert.deepEqual(decide({ ...base, code: "DEADLINE_EXCEEDED", hasReplyTo: false, deadlineMs: 900 }), {
      action: "dead_letter",
      reason: "deadline",
    });
  });
  await t.step("a named call too", () => {
    assert.deepEqual(decide({ ...base, op: "call", code: "DEADLINE_EXCEEDED", hasReplyTo: false }), {
      action: "dead_letter",
      reason: "deadline",
    });
  });
  await t.step("with reply_to: answered (its client decides)", () => {
    assert.deepEqual(decide({ ...base, code: "DEADLINE_EXCEEDED", hasReplyTo: true }), { action: "reply" });
  });
  await t.step(
    "a retry that came back past its deadline: kept, with reply_to too (its write ran before)",
    () => {
      for (const hasReplyTo of [true, false]) {
        assert.deepEqual(decide({ ...base, code: "DEADLINE_EXCEEDED", attempt: 2, hasReplyTo }), {
          action: "dead_letter",
          reason: "deadline",
        });
      }
      assert.deepEqual(decide({ ...base, op: "read", code: "DEADLINE_EXCEEDED", attempt: 2 }), {
        action: "reply",
      });
    },
  );
  await t.step("a fire-and-forget read: dropped, as any failed read", () => {
    assert.deepEqual(decide({ ...base, op: "read", code: "DEADLINE_EXCEEDED", hasReplyTo: false }), {
      action: "reply",
    });
  });
  await t.step("other fire-and-forget failures stay 'unanswered_write'", () => {
    assert.deepEqual(decide({ ...base, code: "VALIDATION", hasReplyTo: false }), {
      action: "dead_letter",
      reason: "unanswered_write",
    });
  });
});

Deno.test("decide() retries a transient write failure until the attempts or the deadline run out", async (t) => {
  await t.step("first attempt: tier 0", () => {
    assert.deepEqual(decide({ ...base, code: "DB_UNAVAILABLE" }), { action: "retry", tier: 0, delayMs: 100 });
  });
  await t.step("the last tier repeats", () => {
    assert.deepEqual(decide({ ...base, code: "OVERLOADED", attempt: 2, maxAttempts: 5 }), {
      action: "retry",
      tier: 1,
      delayMs: 200,
    });
  });
  await t.step("attempts spent", () => {
    assert.deepEqual(decide({ ...base, code: "DB_UNAVAILABLE", attempt: 3 }), {
      action: "dead_letter",
      reason: "retries_exhausted",
    });
  });
  await t.step("the next retry would end after the deadline", () => {
    assert.deepEqual(decide({ ...base, code: "DB_UNAVAILABLE", deadlineMs: 1_050 }), {
      action: "dead_letter",
      reason: "deadline",
    });
  });
  await t.step("no deadline (a replayed letter's is dropped): retried", () => {
    assert.deepEqual(decide({ ...base, code: "DB_UNAVAILABLE", deadlineMs: undefined, hasReplyTo: false }), {
      action: "retry",
      tier: 0,
      delayMs: 100,
    });
  });
});
