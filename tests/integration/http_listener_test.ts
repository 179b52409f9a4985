/**
 * A listener that fails must not end its process. Each test runs the real
 * entry point as a child under a low `ulimit -n`, opens idle connections
 * until accepting fails with EMFILE, closes them, and checks the process is
 * still running and answers again.
 */
import assert from "node:assert/strict";
import { createTestEnv, ROOT, waitFor } from "../helpers/services.ts";
import { nodeUrls } from "../helpers/http.ts";

const DENO_RUN = ["run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys"];

/** A child process with a file descriptor limit, its output collected. */
function spawnLimited(limit: number, args: string[], env: Record<string, string>) {
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath(), ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
  };
  const collected = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  child.status.then(() => exited = true);
  return {
    output: () => output,
    exited: () => exited,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const status = await child.status;
      await collected;
      return status;
    },
  };
}

/**
 * Opens idle connections to `url` until one is refused (the listener failed and is not back yet)
 * or `max` are open, and closes them all. Returns how many were open.
 */
async function exhaust(url: string, max: number): Promise<number> {
  const { hostname, port } = new URL(url);
  const conns: Deno.Conn[] = [];
  try {
    while (conns.length < max) conns.push(await Deno.connect({ hostname, port: Number(port) }));
  } catch {
    // Refused or reset: the listener has given up accepting.
  } finally {
    for (const conn of conns) conn.close();
  }
  return conns.length;
}

async function status(url: string, init?: RequestInit): Promise<number | string> {
  try {
    const response = await fetch(url, init);
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return (error as Error).message;
  }
}

Deno.test({
  name: "a node whose listeners run out of file descriptors keeps running and answers again",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = await createTestEnv();
    const instance = `fds-${env.id}`;
    const limit = 128;
    const node = spawnLimited(
      limit,
      [...DENO_RUN, "src/main.ts", "run", "--node", "gateway", "--instance", instance, ...env.cliArgs],
      { BEDS_LOG_LEVEL: "warn" },
    );
    try {
      const urls = await nodeUrls(env, instance, { gateway: true });
      for (const [name, url] of [["http", urls.http], ["gateway", urls.gateway!]] as const) {
        const opened = await exhaust(url, limit * 2);
        assert.ok(opened < limit * 2, `${name}: accepting never failed (${opened} connections open)`);
        await waitFor(
          () => node.output().includes(`"http":"${name}"`) || node.exited(),
          5_000,
          `the ${name} listener's failure to be logged`,
        );
        assert.equal(node.exited(), false, `the node ended:\n${node.output()}`);
      }
      const line = node.output().split("\n").find((l) => l.includes("http listener failed"))!;
      assert.match(line, /"level":"error".*Too many open files/);
      await waitFor(async () => await status(`${urls.http}/live`) === 200, 10_000, "/live 200 again");
      await waitFor(async () => await status(`${urls.http}/ready`) === 200, 10_000, "/ready 200 again");
      // No broker serves template zzq: the gateway answers, from its own listener started again.
      const answer = await status(`${urls.gateway}/v1/zzq/read`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(answer, 404);
      assert.equal(node.exited(), false);
    } finally {
      const exit = await node.stop();
      await env.cleanup();
      assert.equal(exit.code, 0, node.output());
    }
  },
});

Deno.test({
  name: "the observer keeps running when its listener runs out of file descriptors",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const limit = 64;
    const observer = spawnLimited(limit, [...DENO_RUN, "utilities/log_dumper/main.ts"], {
      LOG_DUMPER_CONFIG: "",
      LOG_DUMPER_PORT: "0",
      LOG_DUMPER_REFRESH: "0",
      // No log store is needed for /favicon.ico; the pool's own connections count against the limit.
      LOG_DUMPER_DB_USER: "root",
      LOG_DUMPER_DB_NAME: "mysql",
    });
    try {
      await waitFor(() => /http:\/\/\S+\//.test(observer.output()), 10_000, "the observer to listen");
      const url = /http:\/\/(\S+?)\//.exec(observer.output())![0].replace(/\/$/, "");
      const opened = await exhaust(url, limit * 3);
      assert.ok(opened < limit * 3, `accepting never failed (${opened} connections open)`);
      await waitFor(
        () => observer.output().includes("observer listener failed") || observer.exited(),
        5_000,
        "the failure to be logged",
      );
      assert.equal(observer.exited(), false, `the observer ended:\n${observer.output()}`);
      assert.match(observer.output(), /observer listener failed: .*Too many open files/);
      await waitFor(async () => await status(`${url}/favicon.ico`) === 204, 10_000, "an answer again");
      assert.equal(observer.exited(), false, observer.output());
    } finally {
      const exit = await observer.stop();
      assert.equal(exit.success, true, observer.output());
    }
  },
});
