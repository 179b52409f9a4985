/**
 * The load generators judge each request by when it was sent (in an open loop: when it was
 * due): every request of the measured window counts, with its latency, even when it answers
 * during the drain, and a request sent during the warm-up never counts towards throughput (its
 * latency does, when it answers inside the window). A stall straddling either edge of the window
 * therefore shows in the latencies, and a fixed rate never reports more throughput than it offered.
 */
import assert from "node:assert/strict";
import { type LoadOptions, type Outcome, runLoad } from "../../lab/bench/load.ts";

const WARMUP_MS = 200;
const WINDOW_MS = 1000;

/**
 * A system that answers in 1 ms, except that a request sent during the stall [from, to) (ms from
 * the window's start) is answered only when the stall ends.
 */
function stalling(spec: LoadOptions["spec"], from: number, to: number) {
  const windowStart = performance.now() + WARMUP_MS;
  return runLoad({
    spec,
    warmupMs: WARMUP_MS,
    durationMs: WINDOW_MS,
    drainMs: 3000,
    send: () => {
      const at = performance.now() - windowStart;
      const wait = at >= from && at < to ? to - at : 1;
      return new Promise<Outcome>((resolve) => setTimeout(() => resolve({ ok: true }), wait));
    },
  });
}

const ms = (us: number) => Math.round(us / 1000);

Deno.test("runLoad() open loop: a stall straddling the window's end shows in the percentiles", async () => {
  // Due 700–1000 ms into the window (30 % of it), answered at 1500 ms, during the drain.
  const result = await stalling({ mode: "open", rate: 500 }, 700, 1500);
  const p99 = ms(result.histogram.getValueAtPercentile(99));
  assert.equal(result.errors, 0);
  assert.ok(
    result.completed >= 499 && result.completed <= 501,
    `every request due in the window counts: ${result.completed} of 500`,
  );
  assert.ok(p99 >= 500, `the stall is in the p99: ${p99} ms`);
  assert.ok(result.tps <= 501, `no more than the offered 500/s: ${result.tps}`);
});

Deno.test("runLoad() open loop: warm-up requests answered inside the window do not count", async () => {
  // Requests due in the last 150 ms of the warm-up are answered 300 ms into the window.
  const result = await stalling({ mode: "open", rate: 500 }, -150, 300);
  assert.equal(result.errors, 0);
  assert.ok(
    result.completed >= 499 && result.completed <= 501,
    `only the 500 due in the window count: ${result.completed}`,
  );
  assert.ok(result.tps <= 501, `no more than the offered 500/s: ${result.tps}`);
  // The window's own first 300 ms waited too: those latencies are in.
  assert.ok(ms(result.histogram.getValueAtPercentile(99)) >= 200);
});

Deno.test("runLoad() closed loop: a request answered after the window still records its latency", async () => {
  // The requests in flight from 700 ms on are answered at 1500 ms, after the window closed.
  const result = await stalling({ mode: "closed", concurrency: 4 }, 700, 1500);
  const max = ms(result.histogram.maxValue);
  assert.equal(result.errors, 0);
  assert.ok(max >= 600, `the stalled requests' latency is recorded: max ${max} ms`);
  assert.equal(result.ok, result.completed);
});

Deno.test("runLoad() closed loop: a stall straddling the window's start shows in the latencies", async () => {
  // The requests sent from 50 ms before the window are answered 250 ms into it; the loop waits.
  const result = await stalling({ mode: "closed", concurrency: 4 }, -50, 250);
  const max = ms(result.histogram.maxValue);
  assert.equal(result.errors, 0);
  assert.ok(max >= 250, `the stalled warm-up requests' latency is recorded: max ${max} ms`);
  assert.ok(result.ok <= result.completed, "and they do not count towards throughput");
});

Deno.test("runLoad() still counts a warm-up request's failure seen once the window is open", async () => {
  let failing: Promise<Outcome> | undefined;
  const started = performance.now();
  const result = await runLoad({
    spec: { mode: "closed", concurrency: 2 },
    warmupMs: WARMUP_MS,
    durationMs: 300,
    send: () => {
      if (!failing && performance.now() - started > 100) {
        // Sent in the warm-up, failed 200 ms later, inside the window.
        failing = new Promise((resolve) => setTimeout(() => resolve({ ok: false, code: "TIMEOUT" }), 200));
        return failing;
      }
      return new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 1));
    },
  });
  assert.ok(failing, "one request was held");
  assert.deepEqual(result.errorCodes, { TIMEOUT: 1 });
  assert.equal(result.ok, result.completed, "not one of the window's requests");
});
