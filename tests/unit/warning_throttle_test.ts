import assert from "node:assert/strict";
import { createWarningThrottle } from "../../src/logging/throttle.ts";
import type { Logger } from "../../src/logging/mod.ts";

Deno.test("createWarningThrottle() logs a key at most once per interval, counting those between", () => {
  const lines: Array<[Record<string, unknown>, string]> = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => lines.push([fields, msg]) };
  const clock = { t: 1_000 };
  const warn = createWarningThrottle({
    logger: logger as unknown as Logger,
    everyMs: 10_000,
    now: () => clock.t,
  });
  warn("poison", { event: "e1" }, "dead-lettered");
  warn("deadline", { event: "e2" }, "dead-lettered");
  for (let i = 0; i < 50; i++) {
    clock.t += 100;
    warn("poison", { event: `p${i}` }, "dead-lettered");
  }
  // One line per key so far: the second key has a window of its own.
  assert.deepEqual(lines, [[{ event: "e1", count: 1 }, "dead-lettered"], [
    { event: "e2", count: 1 },
    "dead-lettered",
  ]]);
  clock.t += 5_000;
  warn("poison", { event: "late" }, "dead-lettered", "refused");
  assert.deepEqual(lines[2], [{ event: "late", refused: 51 }, "dead-lettered"]);
  warn("poison", { event: "next" }, "dead-lettered");
  assert.equal(lines.length, 3);
});
