/**
 * A configured delay that ends up in a timer is at most the longest delay a timer holds
 * (2^31−1 ms): past it the timer fires after 1 ms, or throws, so a gateway `timeout_ms` of
 * 3000000000 answered every request 408. `loadConfig` (and so `beds check`) refuses it instead.
 */
import assert from "node:assert/strict";
import { runCli } from "../../src/cli/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { MAX_TIMEOUT_MS } from "../../src/client/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { MINIMAL_CONFIG } from "../helpers/config_text.ts";

const BASE = `${MINIMAL_CONFIG}
[databases.mongodb]
`;

const TOO_LONG = "must be at most 2147483647 ms (about 24.8 days), the longest delay a timer holds";

/** Each timer delay: its key path, and the TOML that sets it to `ms` (appended to BASE). */
const TIMERS: Array<[string, (ms: number) => string]> = [
  ["gateway.timeout_ms", (ms) => `[gateway]\ntimeout_ms = ${ms}\n`],
  ["node.drain_ms", (ms) => `[node]\ndrain_ms = ${ms}\n`],
  ["logstore.flush_ms", (ms) => `[logstore]\nflush_ms = ${ms}\n`],
  ["admin.report_ms", (ms) => `[admin]\nreport_ms = ${ms}\n`],
  ["amqp.connect_timeout_ms", (ms) => `[amqp]\nconnect_timeout_ms = ${ms}\n`],
  [
    "databases.mariadb.master.connect_timeout_ms",
    (ms) => `[databases.mariadb.master]\nconnect_timeout_ms = ${ms}\n`,
  ],
  ["databases.mongodb.connect_timeout_ms", (ms) => `[databases.mongodb]\nconnect_timeout_ms = ${ms}\n`],
];

async function withConfigDir(envToml: string, fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "beds_config_timers_" });
  try {
    await Deno.writeTextFile(`${dir}/beds.toml`, BASE);
    await Deno.writeTextFile(`${dir}/env_qa.toml`, envToml);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() refuses a timer delay longer than a timer holds, naming the key", async (t) => {
  assert.equal(MAX_TIMEOUT_MS, 2 ** 31 - 1);
  for (const [path, toml] of TIMERS) {
    await t.step(path, async () => {
      await withConfigDir(toml(3_000_000_000), (dir) => {
        assert.throws(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }), (error: unknown) => {
          assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
          assert.equal(error.message, `Invalid config "${dir}/env_qa.toml": ${path}: ${TOO_LONG}`);
          return true;
        });
      });
      await withConfigDir(toml(MAX_TIMEOUT_MS + 1), (dir) => {
        assert.throws(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }), ConfigError);
      });
    });
  }
});

Deno.test("loadConfig() takes a timer delay up to the longest a timer holds", async () => {
  for (const [path, toml] of TIMERS) {
    await withConfigDir(toml(MAX_TIMEOUT_MS), (dir) => {
      const config = loadConfig({ dir, environ: { BEDS_ENV: "qa" } }) as unknown as Record<string, unknown>;
      const value = path.split(".").reduce<unknown>(
        (at, key) => (at as Record<string, unknown>)[key],
        config,
      );
      assert.equal(value, MAX_TIMEOUT_MS, path);
    });
  }
});

Deno.test("beds check refuses a gateway timeout_ms of 3000000000 at the config step", async () => {
  await withConfigDir("[gateway]\ntimeout_ms = 3000000000\n", async (dir) => {
    const out: string[] = [];
    const code = await runCli(["check", "--config", dir, "--env", "qa"], {
      out: (line) => out.push(line),
      err: () => {},
      environ: {},
      signal: new AbortController().signal,
    });
    assert.equal(code, 10);
    assert.equal(
      out.at(-1),
      `check failed: config: Invalid config "${dir}/env_qa.toml": gateway.timeout_ms: ${TOO_LONG}`,
    );
  });
});
