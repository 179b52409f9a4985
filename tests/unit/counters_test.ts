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
  t = 11_000;
  assert.equal(c.snapshot().ratePerSec, 0, "nothing in the last 10 s");
  t = 3_600_000; // an idle hour, then a burst of 1000/s for 5 s
  assert.equal(c.snapshot().ratePerSec, 0);
  for (let s = 0; s < 5; s++) {
    for (let i = 0; i < 1000; i++) c.record("cus", "read", undefined, "reply");
    t += 1000;
  }
  const r = (x: number) => Math.round(x * 10) / 10;
  assert.equal(
    c.snapshot().ratePerSec,
    r(5000 / 9),
    "the burst, over the last 9 s and the current second so far",
  );
  t += 500;
  assert.equal(c.snapshot().ratePerSec, r(5000 / 9.5));
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 200; i++) c.record("cus", "read", undefined, "reply");
    t += 1000;
  }
  // Nine whole seconds of 200 and half of the current one, with none yet.
  assert.equal(c.snapshot().ratePerSec, r(1800 / 9.5), "a steady 200/s, read mid-second");
});
