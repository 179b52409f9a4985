import assert from "node:assert/strict";
import { type Listen, listenerRestartDelay, startHttpServer } from "../../src/http/mod.ts";
import { type Logger, silentLogger } from "../../src/logging/mod.ts";

/** A `Deno.serve` stand-in: each listener it starts can be made to fail as accept failing does. */
function fakeListen(options: { throwOnStart?: (n: number) => Error | undefined } = {}) {
  const started: Array<{ port: number; fail(error: Error): void; shutdowns: number }> = [];
  const listen: Listen = (serveOptions) => {
    const error = options.throwOnStart?.(started.length);
    if (error) {
      started.push({ port: serveOptions.port!, fail() {}, shutdowns: 0 });
      throw error;
    }
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const finished = new Promise<void>((res, rej) => [resolve, reject] = [res, rej]);
    const entry = { port: serveOptions.port!, fail: (e: Error) => reject(e), shutdowns: 0 };
    started.push(entry);
    return {
      addr: { transport: "tcp", hostname: serveOptions.hostname!, port: serveOptions.port || 40123 },
      finished,
      shutdown: () => {
        entry.shutdowns++;
        resolve();
        return finished.catch(() => {});
      },
      abort: () => {
        resolve();
        return finished;
      },
    };
  };
  return { listen, started };
}

function capturingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    void lines.push({ level, fields, msg });
  return {
    logger: { ...silentLogger(), error: log("error"), warn: log("warn") } as unknown as Logger,
    lines,
  };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `condition`, polling: timers of a loaded machine may fire late. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition(); await tick(5)) {
    if (Date.now() - started > 5_000) throw new Error(`Timed out waiting for ${what}`);
  }
}

Deno.test("startHttpServer() logs a listener that failed and starts it again, never ending the process", async (t) => {
  const { listen, started } = fakeListen();
  const { logger, lines } = capturingLogger();
  const delays: number[] = [];
  const server = startHttpServer({
    name: "gateway",
    port: 0,
    handler: () => new Response("ok"),
    logger,
    listen,
    restartDelayMs: (attempt) => (delays.push(attempt), 20),
  });
  try {
    assert.equal(server.port, 40123);
    assert.equal(server.listening(), true);

    await t.step("a failure is logged at error level with the listener's name", async () => {
      started[0]!.fail(new Error("Too many open files (os error 24)"));
      await tick();
      assert.equal(server.listening(), false);
      assert.deepEqual(lines.map((l) => [l.level, l.msg, l.fields.http, l.fields.err]), [
        ["error", "http listener failed; starting it again", "gateway", "Too many open files (os error 24)"],
      ]);
      assert.equal(started[0]!.shutdowns, 1, "what the failed listener holds is released");
    });

    await t.step("the listener is started again on the port first bound", async () => {
      await until(() => started.length === 2, "the second listener");
      assert.equal(started[1]!.port, 40123);
      assert.equal(server.listening(), true);
      assert.equal(lines.at(-1)?.msg, "http listener started again");
    });

    await t.step("it fails again: the backoff goes on from where it was", async () => {
      started[1]!.fail(new Error("Too many open files (os error 24)"));
      await until(() => started.length === 3, "the third listener");
      assert.deepEqual(delays, [0, 1]);
    });
  } finally {
    await server.close();
  }
  assert.equal(server.listening(), false);
});

Deno.test("startHttpServer() retries a start again that cannot bind, and close() ends the retries", async () => {
  const { listen, started } = fakeListen({
    throwOnStart: (n) => n === 1 ? new Deno.errors.AddrInUse("Address already in use") : undefined,
  });
  const { logger, lines } = capturingLogger();
  const server = startHttpServer({
    name: "http",
    port: 9100,
    handler: () => new Response("ok"),
    logger,
    listen,
    restartDelayMs: () => 10,
  });
  started[0]!.fail(new Error("accept failed"));
  await until(() => started.length === 3, "a start again that binds");
  assert.deepEqual(started.map((s) => s.port), [9100, 9100, 9100]);
  assert.ok(lines.some((l) => l.msg === "http listener start failed" && l.fields.http === "http"));
  assert.equal(server.listening(), true);

  started[2]!.fail(new Error("accept failed"));
  await tick();
  await server.close();
  await tick(40);
  assert.equal(started.length, 3, "no start again after close()");
});

Deno.test("listenerRestartDelay() doubles from 100 ms to at most 5 s, with jitter below that", () => {
  const top = (attempt: number) => listenerRestartDelay(attempt, () => 1);
  assert.deepEqual([0, 1, 2, 3, 5, 6, 50].map(top), [100, 200, 400, 800, 3_200, 5_000, 5_000]);
  assert.deepEqual([0, 9].map((a) => listenerRestartDelay(a, () => 0)), [50, 2_500]);
});
