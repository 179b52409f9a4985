/**
 * connectAmqp's write coalescing (src/amqp/connection.ts) reaches into
 * amqplib internals. These tests run against the pinned amqplib and a real
 * RabbitMQ, so an amqplib upgrade that moves those internals fails here
 * instead of silently costing a write per frame.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { coalesceWrites, connectAmqp, writesCoalesced } from "../../src/amqp/mod.ts";
import type { AmqpConnection } from "../../src/amqp/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { AMQP_URL, ROOT, uniqueId } from "../helpers/services.ts";

const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test", BEDS_AMQP_URL: AMQP_URL } });

/** Counts the calls that hand bytes to the socket (`_write` per chunk, `_writev` per batch). */
function countSocketWrites(model: AmqpConnection): { calls(): number; restore(): void } {
  const socket = (model as unknown as { connection: { stream: Record<string, unknown> } }).connection.stream;
  let calls = 0;
  const originals = { _write: socket._write, _writev: socket._writev };
  for (const name of ["_write", "_writev"] as const) {
    const original = originals[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== "function") continue;
    socket[name] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
  }
  return {
    calls: () => calls,
    restore: () => {
      // Own properties shadowed the prototype's methods; removing them restores those.
      delete socket._write;
      delete socket._writev;
    },
  };
}

/** Socket writes made for `n` messages published in one turn of the event loop. */
async function burst(model: AmqpConnection, n: number): Promise<number> {
  const channel = await model.createConfirmChannel();
  const queue = `t.cork.${uniqueId()}`;
  await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
  const writes = countSocketWrites(model);
  try {
    for (let i = 0; i < n; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    // The broker confirms only what it read, so every write of the burst is done by then.
    await channel.waitForConfirms();
    const calls = writes.calls();
    const { messageCount } = await channel.checkQueue(queue);
    assert.equal(messageCount, n);
    return calls;
  } finally {
    writes.restore();
    await channel.close();
  }
}

Deno.test("connectAmqp installs write coalescing on the pinned amqplib", async () => {
  const model = await connectAmqp(config.amqp, { name: "cork-test" });
  try {
    assert.equal(writesCoalesced(model), true, "connection.muxer._readIncoming is no longer wrapped");
    // Installing twice changes nothing.
    assert.equal(coalesceWrites(model), true);
  } finally {
    await model.close();
  }
});

Deno.test("a burst of publishes leaves in a few socket writes, not one per message", async () => {
  const model = await connectAmqp(config.amqp, { name: "cork-test" });
  try {
    const calls = await burst(model, 50);
    // One flush sends them all (without the hook: one write per message, 50).
    assert.ok(calls > 0 && calls <= 2, `expected at most 2 socket writes for 50 publishes, got ${calls}`);
  } finally {
    await model.close();
  }
});

Deno.test("coalesceWrites() refuses a connection without amqplib's multiplexer and changes nothing", () => {
  const fake = { connection: {} } as unknown as AmqpConnection;
  assert.equal(coalesceWrites(fake), false);
  assert.equal(writesCoalesced(fake), false);
  const noOut = { connection: { muxer: { _readIncoming() {} } } } as unknown as AmqpConnection;
  assert.equal(coalesceWrites(noOut), false);
  assert.equal(writesCoalesced(noOut), false);
});
