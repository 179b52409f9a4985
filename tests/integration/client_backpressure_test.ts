/**
 * BedsClient when the connection cannot take more: while RabbitMQ blocks it
 * (a resource alarm) request() fails `DISCONNECTED` at once and sends nothing,
 * instead of buffering every body in memory until after its deadline; past
 * the write buffer's mark a request waits for room for at most its timeout;
 * and a confirmed send() waits for its confirm however long its message
 * waited in the buffer.
 */
import assert from "node:assert/strict";
import { BedsClient, BedsClientError, type Op, type Reply } from "../../src/client/mod.ts";
import { uniqueId, waitFor, within } from "../helpers/services.ts";
import { startBlockingProxy } from "../helpers/amqp_block_proxy.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";
import { boundQueue } from "../helpers/bound_queue.ts";

const nothingSent = (pattern: RegExp) => (error: unknown) =>
  error instanceof BedsClientError && error.kind === "DISCONNECTED" && pattern.test(error.message) &&
  /nothing was sent/.test(error.message);

Deno.test("while RabbitMQ blocks the connection, request() fails DISCONNECTED at once and sends nothing", async () => {
  const bound = await boundQueue("blocked");
  const proxy = startBlockingProxy();
  const client = await BedsClient.connect({
    amqp: { ...bound.amqpConfig, port: proxy.port },
    name: `request-blocked-${uniqueId()}`,
    timeoutMs: 30_000,
  });
  try {
    await proxy.block("low on memory");
    await waitFor(() => client.blocked, 5000, "the client to see the block");
    const filler = "x".repeat(60_000);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from(
        { length: 200 },
        () => within(client.request({ template: "prd", op: "read", where: { filler } }), 1000),
      ),
    );
    assert.deepEqual(
      new Set(outcomes),
      new Set(["DISCONNECTED"]),
      "each failed at once, none waits for its timeout",
    );
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
    await assert.rejects(
      client.request({ template: "prd", op: "read" }),
      nothingSent(/RabbitMQ blocks the connection \(low on memory\)/),
    );
    assert.equal(client.inflight, 0);
    assert.equal(client.closed, false);

    await proxy.unblock();
    await waitFor(() => !client.blocked, 5000, "the client to see the block end");
    const after = client.request({ template: "prd", op: "read" });
    await waitFor(async () => await bound.count() === 1, 5000, "the request made after the block");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await bound.count(), 1, "none of the refused requests reached the queue");
    const outcome = within(after, 1000);
    await client.close();
    assert.equal(await outcome, "CLOSED");
  } finally {
    await client.close();
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("requests past the write buffer's mark wait for room: all go in time, none piles up in amqplib", async () => {
  const bound = await boundQueue("full");
  const client = await BedsClient.connect({
    amqp: bound.amqpConfig,
    name: `request-full-${uniqueId()}`,
    timeoutMs: 60_000,
  });
  try {
    const filler = "x".repeat(8 * 1024);
    const n = 5000; // 40 MiB, requested in one go, with no turn of the event loop for the socket
    const requests: Array<Promise<Reply>> = [];
    for (let i = 0; i < n; i++) {
      requests.push(client.request({ template: "prd", op: "read", where: { i, filler } }));
    }
    // amqplib's buffer holds 1024 frames (a header and a body frame each): the rest wait for room.
    assert.equal(client.inflight < 2000, true, `${client.inflight} published at once`);
    await waitFor(async () => await bound.count() === n, 30_000, "every request published");
    assert.deepEqual(new Set(await Promise.all(requests.map((r) => within(r, 10)))), new Set(["pending"]));
  } finally {
    await client.close();
    await bound.cleanup();
  }
});

Deno.test("a request that finds no room in the write buffer within its timeout fails DISCONNECTED, nothing sent", async () => {
  const bound = await boundQueue("noroom");
  // About 0.5 MB/s: 40 MiB would take over a minute.
  const proxy = startSlowProxy({ bytesPerTick: 16 * 1024, tickMs: 30 });
  const client = await BedsClient.connect({
    amqp: { ...bound.amqpConfig, port: proxy.port },
    name: `request-noroom-${uniqueId()}`,
    timeoutMs: 1000,
  });
  try {
    const filler = "x".repeat(8 * 1024);
    const n = 5000;
    const outcomes = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => within(client.request({ template: "prd", op: "read", where: { i, filler } }), 5000),
      ),
    );
    const refused = outcomes.filter((outcome) => outcome === "DISCONNECTED").length;
    const published = outcomes.filter((outcome) => outcome === "TIMEOUT").length;
    assert.equal(refused + published, n, JSON.stringify([...new Set(outcomes)]));
    assert.ok(refused > n / 2, `${published} published, ${refused} refused`);
    await assert.rejects(
      client.request({ template: "prd", op: "read", where: { filler } }),
      nothingSent(/write buffer stayed full for 1000 ms/),
    );
    proxy.close();
    await client.close();
    // What was refused never reached the queue (what was published may, or may be lost with the socket).
    assert.ok(
      await bound.count() <= published,
      `${await bound.count()} in the queue, ${published} published`,
    );
  } finally {
    await client.close();
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("with confirms, a send whose message waits in the write buffer does not time out", async () => {
  const bound = await boundQueue("confirm");
  // About 3 MB/s: 8 MiB take seconds to pass, ten times the client's timeout.
  const proxy = startSlowProxy({ bytesPerTick: 64 * 1024, tickMs: 20 });
  const client = await BedsClient.connect({
    amqp: { ...bound.amqpConfig, port: proxy.port },
    name: `confirm-buffered-${uniqueId()}`,
    confirm: true,
    timeoutMs: 300,
  });
  try {
    const filler = "x".repeat(8 * 1024);
    const n = 1000;
    const op: Op = "create";
    const outcomes = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          client.send({ template: "prd", op, data: { i, filler } }).then(() => "confirmed", (e) => e.kind),
      ),
    );
    // Timed out, a send is one its caller sends again: a duplicate, for RabbitMQ has it.
    assert.deepEqual(new Set(outcomes), new Set(["confirmed"]));
    assert.equal(await bound.count(), n);
  } finally {
    await client.close();
    proxy.close();
    await bound.cleanup();
  }
});

Deno.test("requests waiting for room fail DISCONNECTED, nothing sent, when the connection dies or RabbitMQ blocks it", async (t) => {
  const filler = "x".repeat(8 * 1024);
  const outcomes = (requests: Array<Promise<Reply>>) =>
    Promise.all(
      requests.map((r) =>
        r.then(
          () => "reply",
          (e) => `${e.kind}${/nothing was sent/.test(e.message) ? " (nothing sent)" : ""}`,
        )
      ),
    );

  await t.step("the connection dies", async () => {
    const bound = await boundQueue("roomdies");
    const proxy = startSlowProxy({ bytesPerTick: 16 * 1024, tickMs: 30 });
    const client = await BedsClient.connect({
      amqp: { ...bound.amqpConfig, port: proxy.port },
      name: `room-dies-${uniqueId()}`,
      timeoutMs: 30_000,
    });
    try {
      const requests = Array.from(
        { length: 3000 },
        (_, i) => client.request({ template: "prd", op: "read", where: { i, filler } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.close();
      const counts = Object.groupBy(await outcomes(requests), (o) => o);
      // Those handed to amqplib may have left (CLOSED); those still waiting for room did not.
      assert.ok(
        (counts["DISCONNECTED (nothing sent)"]?.length ?? 0) > 1000,
        JSON.stringify(Object.keys(counts)),
      );
      assert.deepEqual(
        Object.keys(counts).sort(),
        ["CLOSED", "DISCONNECTED (nothing sent)"],
        JSON.stringify(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v!.length]))),
      );
    } finally {
      await client.close();
      proxy.close();
      await bound.cleanup();
    }
  });

  await t.step("RabbitMQ blocks the connection", async () => {
    const bound = await boundQueue("roomblocked");
    const proxy = startBlockingProxy();
    const client = await BedsClient.connect({
      amqp: { ...bound.amqpConfig, port: proxy.port },
      name: `room-blocked-${uniqueId()}`,
      timeoutMs: 20_000,
    });
    try {
      const big = "x".repeat(60_000);
      const requests = Array.from(
        { length: 2000 },
        (_, i) => client.request({ template: "prd", op: "read", where: { i, big } }),
      );
      for (const request of requests) request.catch(() => {});
      await proxy.block("low on memory");
      await waitFor(() => client.blocked, 5000, "the client to see the block");
      // Handed to amqplib before the block, a request waits for its timeout (it may still reach a
      // node); one still waiting for room is refused at once, as a new one is.
      const settled = await Promise.all(requests.slice(1500).map((r) => within(r, 2000)));
      assert.deepEqual(new Set(settled), new Set(["DISCONNECTED"]));
    } finally {
      await proxy.unblock();
      await client.close();
      proxy.close();
      await bound.cleanup();
    }
  });
});
