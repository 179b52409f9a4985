/**
 * The `db_pools` step and MongoDB: a server that answers TCP but not the
 * MongoDB protocol (a listener here that hangs up at once) is a warning
 * when MongoDB is optional outside prod, and stops the start otherwise; a
 * template that needs MongoDB then stops `templates_load`. The
 * `reachability` step passes a seed list when any of its hosts answers,
 * and leaves an SRV URL to the driver.
 */
import assert from "node:assert/strict";
import { CHECK_STEPS, EXIT_CODES, type IplContext } from "../../src/ipl/mod.ts";
import { cli, createTestEnv, ROOT } from "../helpers/services.ts";

/** A TCP port that accepts connections and closes each one at once. */
function hangUpServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

/** A local port nothing listens on: connecting to it is refused at once. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function mongoToml(port: number | string, optional: boolean): string {
  const hosts = typeof port === "number" ? `127.0.0.1:${port}` : port;
  return `
[databases.mongodb]
url = "mongodb://${hosts}"
optional = ${optional}
connect_timeout_ms = 300
`;
}

Deno.test("reachability passes a MongoDB seed list when any host answers, in prod, with MongoDB required", async (t) => {
  const answering = hangUpServer();
  const [down, alsoDown] = [closedPort(), closedPort()];
  const step = CHECK_STEPS.find((s) => s.name === "reachability")!;
  // Only what the step reads: AMQP answers (the listener), MongoDB is required, in prod.
  const run = async (url: string) =>
    (await step.run({
      config: {
        env: "prod",
        amqp: { host: "127.0.0.1", port: answering.port, connect_timeout_ms: 1000 },
        databases: { mongodb: { url, optional: false } },
      },
    } as unknown as IplContext)) ?? {};
  try {
    await t.step("the first seed down, the second up: passes", async () => {
      const outcome = await run(`mongodb://127.0.0.1:${down},127.0.0.1:${answering.port}/?replicaSet=rs0`);
      assert.match(
        outcome.detail ?? "",
        new RegExp(`mongodb 127\\.0\\.0\\.1:${down},127\\.0\\.0\\.1:${answering.port} up`),
      );
    });
    await t.step("an SRV URL is not probed: opening the adapter decides", async () => {
      const outcome = await run("mongodb+srv://u:p@cluster0.example.invalid/beds");
      assert.match(outcome.detail ?? "", /mongodb not probed/);
      assert.deepEqual(outcome.warnings, []);
    });
    await t.step("every seed down: fails, naming them all", async () => {
      await assert.rejects(() => run(`mongodb://127.0.0.1:${down},127.0.0.1:${alsoDown}`), {
        message: `Unreachable: mongodb 127.0.0.1:${down},127.0.0.1:${alsoDown}`,
      });
    });
  } finally {
    answering.close();
  }
});

Deno.test("db_pools warns about an optional MongoDB that does not answer, and fails on a required one", async (t) => {
  const server = hangUpServer();
  try {
    await t.step("optional, test env: check passes with one warning", async () => {
      const env = await createTestEnv({ extraToml: mongoToml(server.port, true) });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, 0, run.out);
        assert.match(run.out, /warn\s+db_pools/);
        assert.match(run.out, /optional service mongodb: /);
        assert.match(run.out, /check passed with 1 warning/);
      } finally {
        await env.cleanup();
      }
    });

    await t.step("optional, but a template needs it: templates_load fails", async () => {
      const env = await createTestEnv({
        extraToml: mongoToml(server.port, true),
        templatesDir: `${ROOT}/tests/testdata/mongo_templates`,
      });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, EXIT_CODES.templates_load, run.out);
        assert.match(
          run.out,
          /Template "mcu" \(.*mcu_rec\.toml\) needs store mongodb, which this node does not have/,
        );
      } finally {
        await env.cleanup();
      }
    });

    await t.step("required, its first seed down: past reachability, db_pools decides", async () => {
      const env = await createTestEnv({
        extraToml: mongoToml(`127.0.0.1:${closedPort()},127.0.0.1:${server.port}`, false),
      });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, EXIT_CODES.db_pools, run.out);
        assert.match(run.out, /ok\s+reachability/);
      } finally {
        await env.cleanup();
      }
    });

    await t.step("required: check fails at db_pools with its exit code", async () => {
      const env = await createTestEnv({ extraToml: mongoToml(server.port, false) });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, EXIT_CODES.db_pools, run.out);
        assert.match(
          run.out,
          new RegExp(`MongoDB connect to 127\\.0\\.0\\.1:${server.port} \\(database "beds"\\) failed: `),
        );
      } finally {
        await env.cleanup();
      }
    });
  } finally {
    server.close();
  }
});
