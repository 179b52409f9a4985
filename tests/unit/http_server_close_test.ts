/**
 * Closing a listener is bounded: requests in progress get `drainMs`, then every connection is closed,
 * whatever its client is doing (Deno's graceful shutdown waits for ever on a half-sent body).
 */
import assert from "node:assert/strict";
import { gatewayHandler, startHttpServer } from "../../src/http/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `promise`, failing when it has not settled within `limitMs`: a close that hangs fails. */
async function within(promise: Promise<unknown>, limitMs: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), limitMs)),
  ]);
  clearTimeout(timer);
  assert.ok(settled, `${what} within ${limitMs} ms`);
}

/** A connection that sent a POST's headers and 7 of its 100 body bytes, and then nothing. */
async function halfSentBody(port: number, path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"key":`,
  ));
  return conn;
}

/** Resolves when the server has closed `conn` (its answer, if any, read and dropped). */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null) { /* an answer sent before closing */ }
  } catch {
    // Reset: closed as well.
  }
}

Deno.test("close() ends connections whose request body never comes, answered or still read", async () => {
  const server = startHttpServer({
    name: "http",
    port: 0,
    logger: silentLogger(),
    drainMs: 300,
    handler: async (request) => {
      if (new URL(request.url).pathname === "/read") await request.text().catch(() => {});
      return new Response("ok\n");
    },
  });
  const answered = await halfSentBody(server.port, "/live");
  const reading = await halfSentBody(server.port, "/read");
  try {
    await tick(200);
    await within(server.close(), 2_000, "close() returned");
    await within(closedByServer(answered), 1_000, "the answered one closed");
    await within(closedByServer(reading), 1_000, "the one still read closed");
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/live`), "no longer accepting");
  } finally {
    answered.close();
    reading.close();
  }
});

Deno.test("close() lets a request in progress finish within drainMs, and cuts it after", async (t) => {
  // Each handler answers when its test lets it.
  const gate = (ms: number) => {
    let open: () => void = () => {};
    const opened = new Promise<void>((resolve) => open = resolve);
    const timer = ms > 0 ? setTimeout(open, ms) : undefined;
    return { opened, open: () => (clearTimeout(timer), open()) };
  };
  const serve = (drainMs: number, wait: { opened: Promise<void> }) =>
    startHttpServer({
      name: "gateway",
      port: 0,
      logger: silentLogger(),
      drainMs,
      handler: () => wait.opened.then(() => new Response("done\n")),
    });

  await t.step("finished in time: answered, and close() does not wait out drainMs", async () => {
    const wait = gate(400);
    const server = serve(3_000, wait);
    const request = fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text());
    await tick(100);
    await within(server.close(), 2_000, "close() returned");
    assert.equal(await request, "done\n");
  });

  await t.step("still running at drainMs: its connection is closed", async () => {
    const wait = gate(0);
    const server = serve(300, wait);
    const request = fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text());
    await tick(100);
    try {
      await within(server.close(), 2_000, "close() returned");
    } finally {
      wait.open();
    }
    await assert.rejects(request);
  });
});

Deno.test("gatewayHandler() refuses every request once stopping, nothing sent", async () => {
  let stopping = false;
  let sent = 0;
  const handle = gatewayHandler({
    send: () => (sent++, Promise.reject(new Error("not expected"))),
    stopping: () => stopping,
    timeoutMs: 250,
    maxBodyBytes: 1024,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: silentLogger(),
  });
  stopping = true;
  const response = await handle(
    new Request("http://gw/v1/cus/read", {
      method: "POST",
      body: '{"key":{"id":1}}',
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "1");
  const body = await response.json();
  assert.equal(body.error.code, "OVERLOADED");
  assert.equal(sent, 0);
});
