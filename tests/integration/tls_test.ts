/**
 * AMQPS: a node and a client reach RabbitMQ through a TLS endpoint (stunnel
 * with a CA made for the test), and `beds check` fails at amqp_auth with a
 * plain reason when the CA or the server name is wrong. MariaDB: a private
 * server with TLS on, whose BEDS account may log in over TLS only.
 */
import assert from "node:assert/strict";
import { BedsClient } from "../../src/client/mod.ts";
import { cli, createTestEnv, startNode, type TestEnv } from "../helpers/services.ts";
import { startTlsEndpoint, type TlsEndpoint } from "../helpers/tls_endpoint.ts";
import { startTlsMariadb, type TlsMariadb } from "../helpers/mariadb_tls.ts";
import { startExpiredTlsEndpoint } from "../helpers/expired_tls.ts";
import { loadLabSchema } from "../../lab/db.ts";

/** A config dir like the env's, with `[amqp]` pointing at the TLS port and `tls` as given. */
async function tlsConfigDir(env: TestEnv, port: number, tls: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_cfg_tls_" });
  await Deno.copyFile(`${env.configDir}/beds.toml`, `${dir}/beds.toml`);
  const text = await Deno.readTextFile(`${env.configDir}/env_test.toml`);
  assert.ok(text.includes("[amqp]\n"));
  await Deno.writeTextFile(
    `${dir}/env_test.toml`,
    `${text.replace("[amqp]\n", `[amqp]\nport = ${port}\n`)}\n[amqp.tls]\n${tls}\n`,
  );
  return dir;
}

Deno.test("a node and a client talk AMQPS through a TLS endpoint; bad CA or name fails check at amqp_auth", async (t) => {
  const env = await createTestEnv();
  let endpoint: TlsEndpoint | undefined;
  const dirs: string[] = [];
  try {
    endpoint = await startTlsEndpoint();
    const good = await tlsConfigDir(env, endpoint.port, `ca = "${endpoint.caFile}"`);
    dirs.push(good);

    await t.step("beds check passes over AMQPS with the right CA", async () => {
      const run = await cli(["check", "--config", good, "--env", "test"]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, new RegExp(`ok +amqp_auth .*connected to 127\\.0\\.0\\.1:${endpoint!.port}/`));
    });

    await t.step("a node serves a request end to end over AMQPS", async () => {
      const tlsEnv: TestEnv = { ...env, configDir: good, cliArgs: ["--config", good, "--env", "test"] };
      const node = await startNode(tlsEnv);
      try {
        const client = await BedsClient.connect({
          amqp: {
            ...env.config.amqp,
            port: endpoint!.port,
            tls: { ca: endpoint!.caFile, reject_unauthorized: true },
          },
        });
        try {
          const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
          assert.equal(reply.ok, true, JSON.stringify(reply));
        } finally {
          await client.close();
        }
        const accepted = (await endpoint!.log()).match(/accepted connection/g)?.length ?? 0;
        assert.ok(accepted >= 3, `node and client connected through stunnel (${accepted} accepted)`);
      } finally {
        assert.equal(await node.stop(), 0);
      }
    });

    const failures: Array<[string, string, RegExp]> = [
      [
        "an unknown CA",
        `ca = "${endpoint.otherCaFile}"`,
        /TLS certificate not trusted: unknown CA, or expired, or not yet valid \(check tls\.ca and/,
      ],
      [
        "a server name the certificate does not have",
        `ca = "${endpoint.caFile}"\nservername = "beds-wrong.invalid"`,
        /hostname does not match the server certificate.*beds-wrong\.invalid/,
      ],
    ];
    for (const [what, tls, reason] of failures) {
      await t.step(`beds check fails at amqp_auth for ${what}`, async () => {
        const dir = await tlsConfigDir(env, endpoint!.port, tls);
        dirs.push(dir);
        const run = await cli(["check", "--config", dir, "--env", "test"]);
        assert.equal(run.code, 12, run.out + run.err);
        const line = run.out.split("\n").find((l) => l.includes("FAIL  amqp_auth"));
        assert.ok(line, run.out);
        assert.match(line, reason);
        assert.match(
          run.out,
          new RegExp(`check failed: amqp_auth: AMQP login to 127\\.0\\.0\\.1:\\d+/ as "guest" failed: TLS`),
        );
      });
    }

    await t.step(
      "reject_unauthorized = false connects to an unknown CA, with a warning at amqp_auth",
      async () => {
        const dir = await tlsConfigDir(
          env,
          endpoint!.port,
          `ca = "${endpoint!.otherCaFile}"\nreject_unauthorized = false`,
        );
        dirs.push(dir);
        const run = await cli(["check", "--config", dir, "--env", "test"]);
        assert.equal(run.code, 0, run.out + run.err);
        assert.match(
          run.out,
          /amqp\.tls\.reject_unauthorized is false: TLS certificate verification is off/,
        );
      },
    );

    const certDir = endpoint.caFile.slice(0, endpoint.caFile.lastIndexOf("/"));
    const refused: Array<[string, string, RegExp]> = [
      [
        "a client key that is not the certificate's",
        `ca = "${endpoint.caFile}"\ncert = "${certDir}/server.pem"\nkey = "${certDir}/other.key"`,
        /amqp\.tls\.key: file ".*other\.key" is not the key of the certificate in ".*server\.pem"/,
      ],
      [
        "a client certificate without its key",
        `ca = "${endpoint.caFile}"\ncert = "${certDir}/server.pem"`,
        /amqp\.tls\.cert: set without key/,
      ],
      [
        "a CA file that does not exist",
        `ca = "${certDir}/missing-ca.pem"`,
        /amqp\.tls\.ca: cannot read file ".*missing-ca\.pem"/,
      ],
    ];
    for (const [what, tls, message] of refused) {
      await t.step(`beds check refuses ${what} at load (exit 10), before connecting`, async () => {
        const dir = await tlsConfigDir(env, endpoint!.port, tls);
        dirs.push(dir);
        const run = await cli(["check", "--config", dir, "--env", "test"]);
        assert.equal(run.code, 10, run.out + run.err);
        assert.match(run.out + run.err, message);
        assert.doesNotMatch(run.out + run.err, /PRIVATE KEY|BEGIN CERTIFICATE/);
      });
    }
  } finally {
    await endpoint?.stop();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    await env.cleanup();
  }
});

Deno.test("an expired server certificate is not called an unknown authority", async () => {
  const env = await createTestEnv();
  const endpoint = await startExpiredTlsEndpoint();
  let dir: string | undefined;
  try {
    dir = await tlsConfigDir(env, endpoint.port, `ca = "${endpoint.caFile}"`);
    const run = await cli(["check", "--config", dir, "--env", "test"]);
    assert.equal(run.code, 12, run.out + run.err);
    const line = run.out.split("\n").find((l) => l.includes("FAIL  amqp_auth"));
    assert.ok(line, run.out);
    assert.match(line, /TLS certificate not trusted: unknown CA, or expired, or not yet valid/);
    assert.match(line, /the server certificate's dates/);
  } finally {
    await endpoint.stop();
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    await env.cleanup();
  }
});

/** A config dir like the env's, with the MariaDB master at `port` as `user`, plus `tls` if given. */
async function mariadbConfigDir(
  env: TestEnv,
  port: number,
  login: { user: string; password: string },
  tls?: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_cfg_mtls_" });
  await Deno.copyFile(`${env.configDir}/beds.toml`, `${dir}/beds.toml`);
  const text = await Deno.readTextFile(`${env.configDir}/env_test.toml`);
  const master = '[databases.mariadb.master]\nuser = "root"\npassword = ""\n';
  assert.ok(text.includes(master));
  const replaced = text.replace(
    master,
    `[databases.mariadb.master]\nport = ${port}\nuser = "${login.user}"\npassword = "${login.password}"\n`,
  );
  await Deno.writeTextFile(
    `${dir}/env_test.toml`,
    tls ? `${replaced}\n[databases.mariadb.master.tls]\n${tls}\n` : replaced,
  );
  return dir;
}

Deno.test("MariaDB over TLS: check passes with the CA, fails at db_pools without TLS or with an unknown CA", async (t) => {
  const env = await createTestEnv();
  let server: TlsMariadb | undefined;
  const dirs: string[] = [];
  try {
    server = await startTlsMariadb(env.schema);
    await loadLabSchema({ schema: env.schema, port: server.port });
    const cases: Array<[string, string | undefined, number, RegExp]> = [
      ["the server's CA: TLS login works", `ca = "${server.certs.caFile}"`, 0, /ok +db_pools/],
      ["no TLS: the TLS-only account is refused", undefined, 14, /FAIL +db_pools .*Access denied/],
      [
        "an unknown CA",
        `ca = "${server.certs.otherCaFile}"`,
        14,
        /FAIL +db_pools .*TLS certificate not trusted: unknown CA, or expired, or not yet valid/,
      ],
      [
        "an unknown CA with reject_unauthorized = false: connects, with a warning at db_pools",
        `ca = "${server.certs.otherCaFile}"\nreject_unauthorized = false`,
        0,
        /databases\.mariadb\.master\.tls\.reject_unauthorized is false: TLS certificate verification is off/,
      ],
    ];
    for (const [what, tls, code, line] of cases) {
      await t.step(what, async () => {
        const dir = await mariadbConfigDir(env, server!.port, server!.tlsUser, tls);
        dirs.push(dir);
        const run = await cli(["check", "--config", dir, "--env", "test"]);
        assert.equal(run.code, code, run.out + run.err);
        assert.match(run.out, line);
      });
    }
  } finally {
    await server?.stop();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    await env.cleanup();
  }
});
