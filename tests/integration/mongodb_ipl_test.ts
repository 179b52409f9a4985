/**
 * The `db_pools` step and MongoDB: a server that answers TCP but not the
 * MongoDB protocol (a listener here that hangs up at once) is a warning
 * when MongoDB is optional outside prod, and stops the start otherwise; a
 * template that needs MongoDB then stops `templates_load`.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/ipl/mod.ts";
import { cli, createTestEnv, ROOT } from "../helpers/services.ts";

/** A TCP port that accepts connections and closes each one at once. */
function hangUpServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

function mongoToml(port: number, optional: boolean): string {
  return `
[databases.mongodb]
url = "mongodb://127.0.0.1:${port}"
optional = ${optional}
connect_timeout_ms = 300
`;
}

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

    await t.step("required: check fails at db_pools with its exit code", async () => {
      const env = await createTestEnv({ extraToml: mongoToml(server.port, false) });
      try {
        const run = await cli(["check", ...env.cliArgs]);
        assert.equal(run.code, EXIT_CODES.db_pools, run.out);
        assert.match(
          run.out,
          new RegExp(`MongoDB connect to mongodb://127\\.0\\.0\\.1:${server.port} failed: `),
        );
      } finally {
        await env.cleanup();
      }
    });
  } finally {
    server.close();
  }
});
