/**
 * The `db_pools` step and MongoDB: a server that answers TCP but not the
 * MongoDB protocol (a listener here that hangs up at once) is a warning
 * when MongoDB is optional outside prod, and stops the start otherwise.
 * A node with an optional MongoDB that is down serves its other templates;
 * its MongoDB templates answer DB_UNAVAILABLE until MongoDB is up (a fake
 * one here, tests/helpers/fake_mongo.ts), then work, with no restart. The
 * `reachability` step passes a seed list when any of its hosts answers,
 * and leaves an SRV URL to the driver.
 */
import assert from "node:assert/strict";
import { retryQueueName, workQueueName } from "../../src/amqp/mod.ts";
import { CHECK_STEPS, EXIT_CODES, type IplContext } from "../../src/ipl/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { fakeMongo } from "../helpers/fake_mongo.ts";
import { templatesWith } from "../helpers/files.ts";
import { httpGet, nodeUrls } from "../helpers/http.ts";
import { cli, createTestEnv, readyCount, ROOT, startNode, waitFor } from "../helpers/services.ts";

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

    await t.step("optional, and a template needs it: check passes, its templates unchecked", async () => {
      const env = await createTestEnv({
        extraToml: mongoToml(server.port, true),
        templatesDir: `${ROOT}/tests/testdata/mongo_templates`,
      });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, 0, run.out);
        assert.match(
          run.out,
          /warn\s+db_pools .*mongodb not connected \(optional\): its templates answer DB_UNAVAILABLE/,
        );
        assert.match(run.out, /optional service mongodb: /);
        assert.match(run.out, /ok\s+templates_load .*1 templates/);
        assert.match(run.out, /ok\s+templates_verify/);
        assert.match(run.out, /check passed with 1 warning/);
      } finally {
        await env.cleanup();
      }
    });

    await t.step("optional, but in prod: check fails at db_pools, as a required one", async () => {
      const env = await createTestEnv({
        extraToml: mongoToml(server.port, true),
        templatesDir: `${ROOT}/tests/testdata/mongo_templates`,
      });
      try {
        // The test env's settings, as the prod environment.
        await Deno.copyFile(`${env.configDir}/env_test.toml`, `${env.configDir}/env_prod.toml`);
        const run = await cli(["check", "--config", env.configDir, "--env", "prod"]);
        assert.equal(run.code, EXIT_CODES.db_pools, run.out);
        assert.match(run.out, /MongoDB connect to 127\.0\.0\.1:\d+ \(database "beds"\) failed: /);
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

type Ok = Extract<Reply, { ok: true }>;
type Failed = Extract<Reply, { ok: false }>;

Deno.test("a node serves without an optional MongoDB that is down, and its MongoDB templates once it is up", async (t) => {
  const mongo = fakeMongo();
  const templatesDir = await templatesWith(ROOT, {
    "mcu_rec.toml": await Deno.readTextFile(`${ROOT}/tests/testdata/mongo_templates/mcu_rec.toml`),
    // A customer from MariaDB and their documents from MongoDB, which may be missing.
    "cmx_rel.toml": `[template]
name = "cmx"
kind = "rel"

[fields.id]
type = "int"
min = 1

[input]
key = ["id"]

[parts.customer]
template = "cus"
key = { id = "$key.id" }

[parts.documents]
template = "mcu"
where = { email = "$parts.customer.email" }
optional = true
`,
  });
  const env = await createTestEnv({ extraToml: mongoToml(mongo.port, true), templatesDir });
  const id = "65f0a1b2c3d4e5f6a7b8c9d0";
  try {
    const node = await startNode(env, "appServer", `mgo-${env.id}`);
    try {
      const client = await env.client();
      await t.step("it is ready: /ready does not wait for an optional MongoDB", async () => {
        const urls = await nodeUrls(env, `mgo-${env.id}`);
        const ready = await httpGet(`${urls.http}/ready`);
        assert.equal(ready.status, 200, ready.text);
        const metrics = await httpGet(`${urls.http}/metrics`);
        assert.match(metrics.text, /beds_db_up\{[^}]*store="mongodb"[^}]*\} 0/);
      });
      await t.step("its MariaDB templates serve", async () => {
        const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
        assert.equal(reply.ok, true, JSON.stringify(reply));
      });

      await t.step("a MongoDB template answers DB_UNAVAILABLE within about connect_timeout_ms", async () => {
        const started = performance.now();
        const reply = await client.request({ template: "mcu", op: "read", key: { id } }) as Failed;
        const ms = performance.now() - started;
        assert.equal(reply.ok, false);
        assert.equal(reply.error.code, "DB_UNAVAILABLE", JSON.stringify(reply));
        assert.ok(ms < 2500, `answered after ${Math.round(ms)} ms; connect_timeout_ms is 300`);
      });

      await t.step("a REL's optional part on it is null and listed in meta.errors", async () => {
        const reply = await client.request({ template: "cmx", op: "read", key: { id: 1 } }) as Ok;
        assert.equal(reply.ok, true, JSON.stringify(reply));
        const data = reply.data as { customer: { email: string }; documents: unknown };
        assert.equal(data.customer.email, "ana.garcia@example.com");
        assert.equal(data.documents, null);
        const errors = reply.meta.errors as Array<{ part: string; code: string }> | undefined;
        assert.deepEqual(errors?.map(({ part, code }) => ({ part, code })), [
          { part: "documents", code: "DB_UNAVAILABLE" },
        ]);
      });

      await t.step("a templates reload passes, its MongoDB templates unchecked", async () => {
        const run = await cli(["templates", "reload", "--wait", "2000", ...env.cliArgs]);
        assert.equal(run.code, 0, run.out + run.err);
        assert.match(run.out, /: reloaded, \d+ templates/);
      });

      await t.step(
        "a write is retried, and runs once MongoDB is up, with no restart",
        async () => {
          const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
          const reply = client.request({
            template: "mcu",
            op: "create",
            data: { id, email: "ana.garcia@example.com", name: "Ana García", status: "active" },
          });
          await waitFor(
            async () =>
              (await readyCount(retryQueueName(work, 0))) + (await readyCount(retryQueueName(work, 1))) > 0,
            10_000,
            "the create's retry copy",
          );
          mongo.up();
          const created = await reply as Ok;
          assert.equal(created.ok, true, JSON.stringify(created));
          assert.match(created.meta.event, /\.r\d+$/, "answered by a retry");
          assert.deepEqual(mongo.documents("lab", "customers").map((d) => d.id), [id]);
        },
      );

      await t.step("its MongoDB templates and REL parts then serve", async () => {
        const read = await client.request({ template: "mcu", op: "read", key: { id } }) as Ok;
        assert.equal(read.ok, true, JSON.stringify(read));
        assert.equal((read.data as { name: string }).name, "Ana García");
        const rel = await client.request({ template: "cmx", op: "read", key: { id: 1 } }) as Ok;
        assert.equal(rel.ok, true, JSON.stringify(rel));
        assert.deepEqual((rel.data as { documents: Array<{ id: string }> }).documents.map((d) => d.id), [id]);
        assert.equal(rel.meta.errors, undefined);
      });
    } finally {
      assert.equal(await node.stop(), 0);
    }
  } finally {
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
    mongo.close();
  }
});
