/**
 * IPL behaviour that depends on the environment: a missing optional service
 * is a warning in dev-like environments and a stop with a distinct exit code
 * and one line in prod. Also the client's typed timeout.
 */
import assert from "node:assert/strict";
import { BedsClient, BedsClientError } from "../../src/client/mod.ts";
import { EXIT_CODES } from "../../src/ipl/mod.ts";
import { cli, consumerCount, createTestEnv, ROOT, workQueues } from "../helpers/services.ts";

const DEAD_MONGO = `
[databases.mongodb]
url = "mongodb://127.0.0.1:9"
optional = true
`;

Deno.test("an optional service that is down warns outside prod and stops a prod node with its own exit code", async (t) => {
  const env = await createTestEnv({ extraToml: DEAD_MONGO });
  try {
    // The prod layer is the test layer under another name.
    await Deno.copyFile(`${env.configDir}/env_test.toml`, `${env.configDir}/env_prod.toml`);
    await t.step("test env: check passes with a warning", async () => {
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, /warn\s+reachability/);
      assert.match(run.out, /optional service mongodb 127\.0\.0\.1:9 is down/);
      assert.match(run.out, /check passed with 1 warning/);
    });
    await t.step("prod: check fails at reachability", async () => {
      const run = await cli(["check", "--config", env.configDir, "--env", "prod"]);
      assert.equal(run.code, EXIT_CODES.reachability);
      assert.match(run.out, /FAIL\s+reachability/);
      assert.match(run.out, /check failed: reachability: Unreachable: mongodb 127\.0\.0\.1:9/);
    });
    await t.step("prod: a node process stops with exit code 11 and one line on stderr", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--config", env.configDir, "--env", "prod"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 11);
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
      assert.equal(stderr.length, 1, stderr.join("\n"));
      assert.equal(stderr[0], "beds: IPL failed at reachability: Unreachable: mongodb 127.0.0.1:9");
    });
  } finally {
    await env.cleanup();
  }
});

Deno.test("BedsClient.request() fails with a typed TIMEOUT when no node answers in time", async () => {
  const env = await createTestEnv();
  try {
    // Topology without a running node: the queue holds the request, nobody answers.
    const check = await cli(["check", ...env.cliArgs]);
    assert.equal(check.code, 0, check.out);
    const client = await BedsClient.connect({ amqp: env.config.amqp, timeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(
        () => client.request({ template: "cus", op: "read", key: { id: 1 } }),
        (error: unknown) => {
          assert.ok(error instanceof BedsClientError);
          assert.equal(error.kind, "TIMEOUT");
          assert.equal(error.message, "No reply to read.cus within 300 ms");
          return true;
        },
      );
      assert.ok(Date.now() - started >= 290);
      assert.equal(client.inflight, 0, "the timed-out request is forgotten");
    } finally {
      await client.close();
    }
  } finally {
    await env.cleanup();
  }
});

Deno.test("every IPL step is logged as one JSON line with its duration and outcome", async () => {
  const env = await createTestEnv();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/src/main.ts`, "check", "--verbose", ...env.cliArgs],
      env: { BEDS_LOG_LEVEL: "info" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stdout));
    const lines = new TextDecoder().decode(out.stderr).trim().split("\n").map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.ipl?.step).map((l) => l.ipl);
    assert.deepEqual(
      steps.map((s) => s.step),
      ["config", "reachability", "amqp_auth", "topology", "db_pools", "templates_load", "templates_verify"],
    );
    for (const s of steps) {
      assert.equal(typeof s.ms, "number");
      assert.ok(["ok", "warn"].includes(s.outcome), JSON.stringify(s));
    }
  } finally {
    await env.cleanup();
  }
});

Deno.test("a node whose gateway cannot listen exits with its code and leaves no consumer or timer behind", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const env = await createTestEnv({ extraToml: "[nodes.appServer]\ngateway = true\n", gateway: { port } });
  try {
    // In this process: a consumer left running, or restart timers left behind, would show here
    // (the test's sanitizers report pending timers).
    const run = await cli(["run", "--node", "appServer", "--instance", `gwfail-${env.id}`, ...env.cliArgs]);
    assert.equal(run.code, EXIT_CODES.gateway, run.out + run.err);
    assert.match(run.err + run.out, /Cannot listen on 127\.0\.0\.1:\d+/);
    for (const queue of workQueues(env)) assert.equal(await consumerCount(queue), 0, queue);
  } finally {
    taken.close();
    await env.cleanup();
  }
});

Deno.test("a REL part whose limit is past [limits] max_read_limit stops templates_load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  for await (const entry of Deno.readDir(`${ROOT}/templates`)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      await Deno.copyFile(`${ROOT}/templates/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  const cov = await Deno.readTextFile(`${dir}/cov_rel.toml`);
  assert.ok(cov.includes("\nlimit = 20\n"));
  await Deno.writeTextFile(`${dir}/cov_rel.toml`, cov.replace("\nlimit = 20\n", "\nlimit = 5000\n"));
  const env = await createTestEnv({ templatesDir: dir });
  try {
    const run = await cli(["check", ...env.cliArgs]);
    assert.equal(run.code, EXIT_CODES.templates_load, run.out);
    assert.match(
      run.out,
      /Template "cov" \(.*cov_rel\.toml\): parts\.orders\.limit is 5000, more than \[limits\] max_read_limit \(1000\)/,
    );
  } finally {
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a REL part taking a column an earlier part's view does not have stops templates_verify", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  for await (const entry of Deno.readDir(`${ROOT}/templates`)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      await Deno.copyFile(`${ROOT}/templates/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  const cov = await Deno.readTextFile(`${dir}/cov_rel.toml`);
  assert.ok(cov.includes('"$parts.orders.id"'));
  await Deno.writeTextFile(`${dir}/cov_rel.toml`, cov.replace('"$parts.orders.id"', '"$parts.orders.idd"'));
  const env = await createTestEnv({ templatesDir: dir });
  try {
    const check = await cli(["check", ...env.cliArgs]);
    assert.equal(check.code, EXIT_CODES.templates_verify, check.out);
    const pattern = new RegExp(
      `template "cov" parts\\.latest\\.key\\.id: "\\$parts\\.orders\\.idd": view "${env.schema}\\.v_orders" has no column "idd"`,
    );
    assert.match(check.out, pattern);
    const verify = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(verify.code, 16, verify.out);
    assert.match(verify.out, /\$parts\.orders\.idd/);
  } finally {
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
