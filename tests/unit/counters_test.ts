import assert from "node:assert/strict";
import { createCounters } from "../../src/brokers/mod.ts";

Deno.test("createCounters() counts outcomes and measures the request rate over its window", () => {
  let t = 0;
  const c = createCounters(() => t);
  for (let i = 0; i < 50; i++) c.record("cus", "read", undefined, "reply");
  c.record("cus", "create", "DB_UNAVAILABLE", "retry");
  c.record("cus", "create", "VALIDATION", "dead_letter");
  t = 2_000;
  const first = c.snapshot();
  assert.equal(first.requests, 52);
  assert.equal(first.errors, 2);
  assert.equal(first.retries, 1);
  assert.equal(first.deadLetters, 1);
  assert.equal(first.lastError?.code, "VALIDATION");
  assert.equal(first.ratePerSec, 26, "before a full window the rate is measured since start");
  t = 10_000;
  assert.equal(c.snapshot().ratePerSec, 5.2, "52 requests over the first 10 s window");
  for (let i = 0; i < 100; i++) c.record("cus", "read", undefined, "reply");
  t = 20_000;
  assert.equal(c.snapshot().ratePerSec, 10, "100 requests over the next window");
  t = 25_000;
  assert.equal(c.snapshot().ratePerSec, 10, "inside a window the last full rate stands");
});
