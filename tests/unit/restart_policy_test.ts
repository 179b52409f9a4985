import assert from "node:assert/strict";
import { inCrashLoop, nextRestart, RESTART_POLICY } from "../../src/brokers/mod.ts";

/** Delays of `n` quick failures in a row (each consumer ran `ranMs`). */
function delays(n: number, ranMs = 10): number[] {
  const out: number[] = [];
  let streak = 0;
  for (let i = 0; i < n; i++) {
    const next = nextRestart({ streak, ranMs });
    out.push(next.delayMs);
    streak = next.streak;
  }
  return out;
}

Deno.test("nextRestart() doubles the delay over a streak of quick failures", () => {
  assert.deepEqual(delays(6), [100, 200, 400, 800, 1600, 3200]);
  const next = nextRestart({ streak: 3, ranMs: 500 });
  assert.equal(next.streak, 4);
});

Deno.test("nextRestart() caps the delay at 30 s however long the streak", async (t) => {
  await t.step("the cap is reached and held", () => {
    const all = delays(40);
    assert.equal(Math.max(...all), 30_000);
    assert.deepEqual(all.slice(-10), Array(10).fill(30_000));
    for (let i = 1; i < all.length; i++) assert.ok(all[i]! >= all[i - 1]!, "never shrinks within a streak");
  });
  await t.step("huge streaks do not overflow", () => {
    assert.equal(nextRestart({ streak: 10_000, ranMs: 0 }).delayMs, 30_000);
    assert.equal(nextRestart({ streak: Number.MAX_SAFE_INTEGER, ranMs: 0 }).delayMs, 30_000);
  });
});

Deno.test("nextRestart() starts afresh after a stable period", async (t) => {
  await t.step("a consumer that ran 60 s before failing restarts after the first delay", () => {
    const next = nextRestart({ streak: 12, ranMs: RESTART_POLICY.stableMs });
    assert.deepEqual(next, { delayMs: 100, streak: 1, crashLoop: false });
  });
  await t.step("just under the stable period the streak goes on", () => {
    const next = nextRestart({ streak: 12, ranMs: RESTART_POLICY.stableMs - 1 });
    assert.equal(next.delayMs, 30_000);
    assert.equal(next.streak, 13);
  });
  await t.step("a negative streak counts as none", () => {
    assert.equal(nextRestart({ streak: -3, ranMs: 0 }).delayMs, 100);
  });
});

Deno.test("nextRestart() calls the fifth quick failure in a row a crash loop", () => {
  let streak = 0;
  const loops: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    const next = nextRestart({ streak, ranMs: 0 });
    loops.push(next.crashLoop);
    streak = next.streak;
  }
  assert.deepEqual(loops, [false, false, false, false, true, true]);
  assert.equal(nextRestart({ streak: 9, ranMs: 120_000 }).crashLoop, false);
});

Deno.test("inCrashLoop() holds while the slot is down or not yet stable, then clears", async (t) => {
  await t.step("a long streak with the consumer down", () => {
    assert.equal(inCrashLoop({ streak: 5, running: false, runningMs: 0 }), true);
  });
  await t.step("a long streak, restarted but not yet stable", () => {
    assert.equal(inCrashLoop({ streak: 7, running: true, runningMs: 59_999 }), true);
  });
  await t.step("a long streak that has since run for the stable period", () => {
    assert.equal(inCrashLoop({ streak: 7, running: true, runningMs: 60_000 }), false);
  });
  await t.step("a short streak", () => {
    assert.equal(inCrashLoop({ streak: 4, running: false, runningMs: 0 }), false);
  });
  await t.step("a custom policy", () => {
    const policy = { ...RESTART_POLICY, crashLoopAfter: 2, stableMs: 1000 };
    assert.equal(inCrashLoop({ streak: 2, running: true, runningMs: 999 }, policy), true);
    assert.equal(inCrashLoop({ streak: 2, running: true, runningMs: 1000 }, policy), false);
  });
});
