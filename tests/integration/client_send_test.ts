/**
 * BedsClient without confirms: sends handed over are all delivered even
 * when close() follows at once, and requests that cannot go out fail at
 * once instead of waiting for their timeout.
 */
import assert from "node:assert/strict";
import type amqp from "amqplib";
import { BedsClient, MAX_TIMEOUT_MS } from "../../src/client/mod.ts";
import { cli, ROOT, uniqueId, waitFor, within } from "../helpers/services.ts";
import { boundQueue } from "../helpers/bound_queue.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";
import { startBlockingProxy } from "../helpers/amqp_block_proxy.ts";

Deno.test("sends without confirms, all in flight, then close(): RabbitMQ has every one", async () => {
  const bound = await boundQueue();
  // A slow link (about 3 MB/s), so most of what is sent is still in the client's buffers at close().
  const proxy = startSlowProxy({ bytesPerTick: 64 * 1024, tickMs: 20 });
  try {
    const client = await BedsClient.connect({
      amqp: { ...bound.amqpConfig, port: proxy.port },
      name: `send-close-${uniqueId()}`,
      // Megabytes wait in the sockets at close(): the slow link takes seconds to pass them.
      closeTimeoutMs: 60_000,
    });
    const filler = "x".repeat(8 * 1024);
    const n = 1000;
    let resolved = 0;
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          client.send({ template: "prd", op: "create", data: { sku: `S-${i}`, filler } }).then(() =>
            resolved++
          ),
      ),
    );
    await client.close();
    assert.equal(resolved, n);
    let count = 0;
    for (let i = 0; i < 100 && count < n; i++) {
      count = await bound.count();
      if (count < n) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(count, n, "every message send() resolved for is in the queue");
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("sends still buffered when the link dies during close() reject CLOSED", async () => {
  const bound = await boundQueue();
  const proxy = startSlowProxy({ bytesPerTick: 64 * 1024, tickMs: 20 });
  try {
    const client = await BedsClient.connect({
      amqp: { ...bound.amqpConfig, port: proxy.port },
      name: `send-cut-${uniqueId()}`,
    });
    const filler = "x".repeat(8 * 1024);
    const n = 2000; // 16 MiB: most wait for amqplib's buffer to drain
    const outcomes: string[] = [];
    const sends = Array.from(
      { length: n },
      (_, i) =>
        client.send({ template: "prd", op: "create", data: { sku: `C-${i}`, filler } }).then(
          () => outcomes.push("sent"),
          (error) => outcomes.push(error.kind ?? String(error)),
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const waiting = n - outcomes.length;
    assert.ok(waiting > 0, "some sends wait for the buffer to drain");
    const closing = client.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.close(); // RabbitMQ never answers the channel's close
    await closing;
    await Promise.all(sends);
    const closed = outcomes.filter((outcome) => outcome === "CLOSED").length;
    assert.equal(outcomes.filter((outcome) => outcome === "sent").length + closed, n);
    assert.ok(closed > 0, `of ${waiting} sends waiting at close(), none was told it was not sent`);
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("close() on a link gone silent returns within closeTimeoutMs and fails requests CLOSED", async () => {
  const bound = await boundQueue();
  const proxy = startSlowProxy();
  try {
    const client = await BedsClient.connect({
      // No heartbeats: nothing else would ever notice the silence.
      amqp: { ...bound.amqpConfig, port: proxy.port, heartbeat: 0 },
      name: `close-frozen-${uniqueId()}`,
      timeoutMs: 30_000,
      closeTimeoutMs: 500,
    });
    // No node consumes the queue: the request waits.
    const request = client.request({ template: "prd", op: "read" });
    await waitFor(async () => await bound.count() === 1, 5000, "the request in the queue");
    proxy.freeze();
    const started = performance.now();
    const closed = client.close().then(() => "closed");
    // The request fails as close() begins, not at its timeout; close() does not wait for ever.
    const outcome = { request: await within(request, 100), close: await within(closed, 5000) };
    assert.deepEqual(outcome, { request: "CLOSED", close: "closed" });
    assert.ok(performance.now() - started < 2000, `close() took ${performance.now() - started} ms`);
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("a body JSON cannot hold rejects, and a reply that is not JSON rejects with a SyntaxError", async (t) => {
  const bound = await boundQueue();
  const client = await BedsClient.connect({ amqp: bound.amqpConfig, name: `send-json-${uniqueId()}` });
  try {
    const bigint = { id: 10n as unknown as number };
    const notJson = (error: unknown) =>
      error instanceof TypeError &&
      /Cannot send (read|create)\.prd: its body is not JSON/.test(error.message);

    await t.step("request() and send() return a rejected promise and send nothing", async () => {
      let request: Promise<unknown> | undefined;
      let send: Promise<unknown> | undefined;
      assert.doesNotThrow(() => request = client.request({ template: "prd", op: "read", key: bigint }));
      assert.doesNotThrow(() => send = client.send({ template: "prd", op: "create", data: bigint }));
      await assert.rejects(request!, notJson);
      await assert.rejects(send!, notJson);
      assert.equal(client.inflight, 0);
      assert.equal(await bound.count(), 0);
    });

    await t.step("a reply that is not JSON", async () => {
      const reply = client.request({ template: "prd", op: "read" });
      let request: amqp.GetMessage | false = false;
      for (let i = 0; i < 100 && !request; i++) {
        request = await bound.get();
        if (!request) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(request, "the request reached the queue");
      bound.reply(request.properties.replyTo, request.properties.correlationId, "not json");
      await assert.rejects(
        reply,
        (error) => error instanceof SyntaxError && /^Reply is not JSON: /.test(error.message),
      );
      assert.equal(client.inflight, 0);
    });
  } finally {
    await client.close();
    await bound.cleanup();
  }
});

Deno.test("a request that cannot be published fails at once and leaves nothing waiting", async () => {
  const bound = await boundQueue();
  const client = await BedsClient.connect({ amqp: bound.amqpConfig, name: `send-fail-${uniqueId()}` });
  try {
    // A routing key over AMQP's 255 bytes is the request's fault, not a closed client's (CLOSED).
    const keyTooLong = (error: unknown) =>
      error instanceof TypeError && /routing key is 305 bytes, AMQP carries at most 255/.test(error.message);
    await assert.rejects(
      client.request({ template: "x".repeat(300), op: "read" }, { timeoutMs: 30_000 }),
      keyTooLong,
    );
    await assert.rejects(client.send({ template: "x".repeat(300), op: "read" }), keyTooLong);
    assert.equal(client.inflight, 0);
    assert.equal(client.closed, false);
    for (const timeoutMs of [0, -1, MAX_TIMEOUT_MS + 1, Number.NaN]) {
      await assert.rejects(client.request({ template: "prd", op: "read" }, { timeoutMs }), RangeError);
    }
    assert.equal(client.inflight, 0);
    assert.equal(await bound.count(), 0, "nothing was published");
    await assert.rejects(BedsClient.connect({ amqp: bound.amqpConfig, timeoutMs: 3e9 }), RangeError);
    // The client is still of use.
    await client.send({ template: "prd", op: "create", data: {} });
    await waitFor(async () => await bound.count() === 1, 5000, "the send after the refusals");
  } finally {
    await client.close();
    await bound.cleanup();
  }
});

Deno.test("a request carries the client's deadline unless it sets its own, and may carry v: 1", async () => {
  const bound = await boundQueue();
  const client = await BedsClient.connect({ amqp: bound.amqpConfig, name: `send-deadline-${uniqueId()}` });
  const sent = async () => {
    let message: amqp.GetMessage | false = false;
    for (let i = 0; i < 100 && !message; i++) {
      message = await bound.get();
      if (!message) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(message, "the request reached the queue");
    return JSON.parse(message.content.toString());
  };
  try {
    const before = Date.now();
    // A body spread from optional values may hold deadline_ms: undefined; it takes nothing away.
    const requests = Promise.allSettled([
      client.request({ v: 1, template: "prd", op: "read", deadline_ms: undefined }, { timeoutMs: 5000 }),
      client.request({ template: "prd", op: "read", deadline_ms: before + 60_000 }, { timeoutMs: 5000 }),
    ]);
    const first = await sent();
    assert.equal(first.v, 1);
    assert.ok(
      first.deadline_ms >= before + 5000 && first.deadline_ms <= Date.now() + 5000,
      `deadline_ms ${first.deadline_ms}`,
    );
    assert.equal((await sent()).deadline_ms, before + 60_000);
    await client.close();
    const kinds = (await requests).map((outcome) => (outcome as PromiseRejectedResult).reason?.kind);
    assert.deepEqual(kinds, ["CLOSED", "CLOSED"]);
  } finally {
    await client.close();
    await bound.cleanup();
  }
});

Deno.test("beds call refuses a --timeout a timer cannot wait", async () => {
  for (const timeout of ["0", "3000000000"]) {
    const run = await cli([
      "call",
      "prd",
      "read",
      "--timeout",
      timeout,
      "--config",
      `${ROOT}/config`,
      "--env",
      "test",
    ]);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /--timeout must be 1–2147483647 ms/);
  }
});

Deno.test("while RabbitMQ blocks the connection: sends handed over do not time out, and close() does not hang", async (t) => {
  const bound = await boundQueue();
  const proxy = startBlockingProxy();
  try {
    await t.step("sends wait for the block to end, and are all delivered", async () => {
      const client = await BedsClient.connect({
        amqp: { ...bound.amqpConfig, port: proxy.port },
        name: `send-blocked-${uniqueId()}`,
        timeoutMs: 500,
      });
      await proxy.block();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const filler = "x".repeat(8 * 1024);
      const n = 2000; // 16 MiB: past what the sockets hold, so most wait for amqplib's buffer to drain
      const outcomes: string[] = [];
      const sends = Array.from(
        { length: n },
        (_, i) =>
          client.send({ template: "prd", op: "create", data: { sku: `B-${i}`, filler } }).then(
            () => outcomes.push("sent"),
            (error) => outcomes.push(error.kind ?? String(error)),
          ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500)); // three client timeouts
      assert.ok(!outcomes.includes("TIMEOUT"), "no send timed out while its message waited in the buffer");
      await proxy.unblock();
      await Promise.all(sends);
      assert.deepEqual(new Set(outcomes), new Set(["sent"]));
      // Closed while still blocked, a connection closes at once and what it buffered is lost: wait
      // for the client to see the block end.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.close();
      await waitFor(async () => await bound.count() === n, 10_000, "every message in the queue");
    });

    await t.step("close() while blocked returns at once", async () => {
      const client = await BedsClient.connect({
        amqp: { ...bound.amqpConfig, port: proxy.port },
        name: `close-blocked-${uniqueId()}`,
        timeoutMs: 30_000,
      });
      await proxy.block();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      await client.close();
      assert.ok(performance.now() - started < 2_000, `close() took ${performance.now() - started} ms`);
      await proxy.unblock();
    });
  } finally {
    proxy.close();
    await bound.cleanup();
  }
});
