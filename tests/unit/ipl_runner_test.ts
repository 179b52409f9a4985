import assert from "node:assert/strict";
import { IplError, type IplStep, IplStopped, runIpl } from "../../src/ipl/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";

/** Steps that log what they do and undo; `stopAfter` aborts `stop` once that step has run. */
function steps(log: string[], stop: AbortController, stopAfter?: string, fail?: string): IplStep<object>[] {
  return ["topology", "db_pools", "broker_pool"].map((name) => ({
    name,
    exitCode: 13,
    run: () => {
      if (name === fail) return Promise.reject(new Error(`${name} broke`));
      log.push(`run ${name}`);
      if (name === stopAfter) stop.abort();
      return Promise.resolve({
        undo: () => {
          log.push(`undo ${name}`);
          return Promise.resolve();
        },
      });
    },
  }));
}

Deno.test("runIpl() starts no step once stopped, and undoes the steps that ran", async () => {
  const log: string[] = [];
  const stop = new AbortController();
  const error = await runIpl(steps(log, stop, "db_pools"), {}, silentLogger(), [], undefined, stop.signal)
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof IplStopped, String(error));
  assert.equal(error.step, "broker_pool");
  assert.deepEqual(log, ["run topology", "run db_pools", "undo db_pools", "undo topology"]);
  assert.deepEqual(error.record.steps.map((s) => s.step), ["topology", "db_pools"]);
});

Deno.test("runIpl() runs every step when not stopped, and fails at a failing one as before", async () => {
  const log: string[] = [];
  const stop = new AbortController();
  const { record } = await runIpl(steps(log, stop), {}, silentLogger(), [], undefined, stop.signal);
  assert.equal(record.ok, true);
  assert.deepEqual(log, ["run topology", "run db_pools", "run broker_pool"]);
  await assert.rejects(
    runIpl(steps([], stop, undefined, "db_pools"), {}, silentLogger(), [], undefined, stop.signal),
    (e: unknown) => e instanceof IplError && e.step === "db_pools",
  );
});
