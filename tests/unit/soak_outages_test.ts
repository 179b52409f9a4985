import assert from "node:assert/strict";
import { amqpOutages, describeOutage } from "../../lab/soak/outages.ts";

const line = (time: string, amqp: Record<string, unknown>) =>
  JSON.stringify({ level: "warn", time, amqp, msg: `amqp ${amqp.type}` });

Deno.test("amqpOutages() pairs each lost connection with the next connect", () => {
  const log = [
    line("2026-11-28T04:21:00.000Z", { type: "connected", attempt: 0 }),
    "not json",
    JSON.stringify({ level: "info", msg: "ipl step done" }),
    line("2026-11-28T04:21:28.000Z", { type: "disconnected", reason: "write EPIPE" }),
    line("2026-11-28T04:21:28.100Z", { type: "reconnecting", attempt: 1, delayMs: 100 }),
    line("2026-11-28T04:21:29.000Z", { type: "reconnect_failed", attempt: 1, reason: "ECONNREFUSED" }),
    line("2026-11-28T04:21:31.000Z", { type: "reconnect_failed", attempt: 2, reason: "ECONNREFUSED" }),
    line("2026-11-28T04:21:40.500Z", { type: "connected", attempt: 3 }),
    line("2026-11-28T04:22:00.000Z", { type: "disconnected", reason: "CONNECTION_FORCED" }),
  ].join("\n");
  const outages = amqpOutages(log);
  assert.deepEqual(outages, [
    {
      from: "2026-11-28T04:21:28.000Z",
      to: "2026-11-28T04:21:40.500Z",
      reason: "write EPIPE",
      failedAttempts: 2,
    },
    { from: "2026-11-28T04:22:00.000Z", reason: "CONNECTION_FORCED", failedAttempts: 0 },
  ]);
  assert.equal(
    describeOutage(outages[0]!),
    "04:21:28.000 → 04:21:40.500 (12.5 s, 2 failed attempt(s)): write EPIPE",
  );
  assert.match(describeOutage(outages[1]!), /never reconnected/);
});
