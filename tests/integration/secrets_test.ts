/**
 * Secrets from environment variables never show up in what `beds check
 * --verbose` prints (report, JSON log lines, errors), whether the check
 * passes or fails on them.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { createTestEnv, ROOT, type TestEnv } from "../helpers/services.ts";
import { createAmqpUser } from "../helpers/amqp_users.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `beds check --verbose` in a subprocess, so the log lines written to fd 2 are captured too. */
async function check(env: TestEnv, environ: Record<string, string>): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "check", "--verbose", ...env.cliArgs],
    env: { BEDS_LOG_LEVEL: "trace", ...environ },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

function assertNowhere(run: Run, secrets: string[]): void {
  const all = `${run.out}\n${run.err}`;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      assert.ok(!all.includes(form), `secret "${form}" was printed:\n${all}`);
    }
  }
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("rabbitmqctl", { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

async function rootDb() {
  return await mariadb.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "" });
}

Deno.test("beds check --verbose never prints a password from the environment", async (t) => {
  const env = await createTestEnv();
  const id = env.id;
  const amqpUser = `beds_sec_${id}`;
  const amqpPass = `Amqp-S3cret!${id}`;
  const dbUser = `bs_${id}`;
  const dbPass = `Db-S3cret!${id}`;
  const wrongAmqp = `Wrong-Amqp!${id}`;
  const wrongDb = `Wrong-Db!${id}`;
  const secrets = [amqpPass, dbPass, wrongAmqp, wrongDb];
  const amqp = await createAmqpUser(amqpUser, amqpPass);
  const conn = await rootDb();
  try {
    for (const host of ["%", "localhost"]) {
      await conn.query(`CREATE USER '${dbUser}'@'${host}' IDENTIFIED BY '${dbPass}'`);
      await conn.query(`GRANT SELECT, EXECUTE ON \`${env.schema}\`.* TO '${dbUser}'@'${host}'`);
    }
    const good = {
      BEDS_AMQP_USER: amqpUser,
      BEDS_AMQP_PASS: amqpPass,
      BEDS_MARIADB_USER: dbUser,
      BEDS_MARIADB_PASSWORD: dbPass,
    };

    await t.step("check passes with the secrets from the environment, and prints none", async () => {
      const run = await check(env, good);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, /check passed/);
      assert.match(
        run.out,
        new RegExp(`ok +amqp_auth .*connected to 127\\.0\\.0\\.1:5672/ as "${amqpUser}"`),
      );
      assert.match(run.err, /"msg":"ipl amqp_auth ok"/, "log lines were written");
      assertNowhere(run, secrets);
    });
    await t.step("a wrong AMQP password fails at amqp_auth without printing it", async () => {
      const run = await check(env, { ...good, BEDS_AMQP_PASS: wrongAmqp });
      assert.equal(run.code, 12, run.out + run.err);
      assert.match(run.out, /ACCESS.REFUSED/);
      assert.ok(
        run.out.includes(`as "${amqpUser}"`),
        "the user (no secret) is named, so the output is searched",
      );
      assertNowhere(run, secrets);
    });
    await t.step("a wrong MariaDB password fails at db_pools without printing it", async () => {
      const run = await check(env, { ...good, BEDS_MARIADB_PASSWORD: wrongDb });
      assert.equal(run.code, 14, run.out + run.err);
      assert.match(run.out, /Access denied/);
      assertNowhere(run, secrets);
    });
    const url = (pass: string) =>
      `amqp://${amqpUser}:${encodeURIComponent(pass)}@127.0.0.1:5672/${encodeURIComponent("/")}`;
    await t.step("an AMQP URL with credentials passes and is printed without them", async () => {
      const run = await check(env, { ...good, BEDS_AMQP_URL: url(amqpPass) });
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, /connected to 127\.0\.0\.1:5672/);
      assertNowhere(run, secrets);
    });
    await t.step(
      "BEDS_AMQP_USER/PASS beside a BEDS_AMQP_URL without them are refused, not dropped",
      async () => {
        // The URL decides the login: without credentials in it, the node would log in as guest.
        for (
          const [bare, refused] of [
            ["amqp://127.0.0.1:5672/%2F", "BEDS_AMQP_USER and BEDS_AMQP_PASS"],
            [`amqp://${amqpUser}@127.0.0.1:5672/%2F`, "BEDS_AMQP_PASS"],
          ]
        ) {
          const run = await check(env, { ...good, BEDS_AMQP_URL: bare! });
          assert.equal(run.code, 10, run.out + run.err);
          assert.ok(run.out.includes(`${refused} set, but BEDS_AMQP_URL decides the login`), run.out);
          assertNowhere(run, secrets);
        }
      },
    );
    await t.step("a vhost that does not exist fails at amqp_auth, naming it and the user", async () => {
      const vhost = `beds_novhost_${id}`;
      const run = await check(env, {
        ...good,
        BEDS_AMQP_URL: `amqp://${amqpUser}:${encodeURIComponent(amqpPass)}@127.0.0.1:5672/${vhost}`,
      });
      assert.equal(run.code, 12, run.out + run.err);
      assert.ok(
        run.out.includes(
          `vhost "${vhost}" does not exist or user "${amqpUser}" has no permissions on it: ` +
            "check amqp.vhost (or the URL's path) and the user's permissions",
        ),
        run.out,
      );
      assertNowhere(run, secrets);
    });
    await t.step("a vhost the user has no permissions on fails the same way", async () => {
      await rabbitmqctl("clear_permissions", "-p", "/", amqpUser);
      const run = await check(env, good).finally(() =>
        rabbitmqctl("set_permissions", "-p", "/", amqpUser, ".*", ".*", ".*")
      );
      assert.equal(run.code, 12, run.out + run.err);
      assert.ok(
        run.out.includes(`vhost "/" does not exist or user "${amqpUser}" has no permissions on it`),
        run.out,
      );
    });
    await t.step("an AMQP URL with a wrong password fails without printing it", async () => {
      const run = await check(env, { ...good, BEDS_AMQP_URL: url(wrongAmqp) });
      assert.equal(run.code, 12, run.out + run.err);
      assertNowhere(run, secrets);
    });
    await t.step(
      "an AMQP URL that does not parse (a raw # in its password) fails without printing it",
      async () => {
        const raw = `Raw#Pass/${id}`;
        const run = await check(env, { ...good, BEDS_AMQP_URL: `amqp://${amqpUser}:${raw}@127.0.0.1:5672/` });
        assert.notEqual(run.code, 0, run.out + run.err);
        assert.match(run.out + run.err, /expected a URL such as amqp:/);
        assertNowhere(run, [...secrets, raw, raw.split("#")[1]!, raw.split("/")[0]!]);
      },
    );
  } finally {
    for (const host of ["%", "localhost"]) await conn.query(`DROP USER IF EXISTS '${dbUser}'@'${host}'`);
    await conn.end();
    await amqp.drop();
    await env.cleanup();
  }
});

Deno.test("beds check --verbose never prints a secret from a MongoDB URL's query", async (t) => {
  // Answers TCP and hangs up: the driver fails, so the warning and the error both name the MongoDB.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  const secret = `Key-S3cret-${crypto.randomUUID().slice(0, 8)}`;
  const mongo = (optional: boolean) => `
[databases.mongodb]
url = "mongodb://127.0.0.1:${port}/beds?tlsCertificateKeyFilePassword=${secret}&appName=beds"
optional = ${optional}
connect_timeout_ms = 300
`;
  try {
    await t.step("optional: the warning and the report name its host and database only", async () => {
      const env = await createTestEnv({ extraToml: mongo(true) });
      try {
        const run = await check(env, {});
        assert.equal(run.code, 0, run.out + run.err);
        assert.match(
          run.err,
          /"level":"warn".*MongoDB connect to 127\.0\.0\.1:\d+ \(database \\"beds\\"\) failed/,
        );
        assertNowhere(run, [secret]);
      } finally {
        await env.cleanup();
      }
    });
    await t.step("required: the failure names its host and database only", async () => {
      const env = await createTestEnv({ extraToml: mongo(false) });
      try {
        const run = await check(env, {});
        assert.equal(run.code, 14, run.out + run.err);
        assert.match(run.out, /MongoDB connect to 127\.0\.0\.1:\d+ \(database "beds"\) failed/);
        assertNowhere(run, [secret]);
      } finally {
        await env.cleanup();
      }
    });
  } finally {
    listener.close();
  }
});
