import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { redact } from "../../src/config/redact.ts";
import { createLogger } from "../../src/logging/mod.ts";

Deno.test("redact() hides pass and password values at any depth", () => {
  const input = {
    amqp: { host: "rabbit", user: "beds", pass: "amqp-secret", port: 5672 },
    databases: { mariadb: { master: { user: "root", password: "db-secret", connections: 4 } } },
    Password: "upper-case-key",
    other: { secret: "s", token: "t", key: "k" },
  };
  assert.deepEqual(redact(input), {
    amqp: { host: "rabbit", user: "beds", pass: "***", port: 5672 },
    databases: { mariadb: { master: { user: "root", password: "***", connections: 4 } } },
    Password: "***",
    other: { secret: "***", token: "***", key: "***" },
  });
});

Deno.test("redact() keeps an empty secret empty so a missing secret stays visible", () => {
  assert.deepEqual(redact({ pass: "", password: "" }), { pass: "", password: "" });
});

Deno.test("redact() hides credentials in URLs and keeps the rest of the URL", async (t) => {
  await t.step("amqp URL with user and password", () => {
    assert.deepEqual(
      redact({ url: "amqps://beds:hunter2@rabbit.internal:5671/vhost" }),
      { url: "amqps://***@rabbit.internal:5671/vhost" },
    );
  });
  await t.step("mongodb URL: its query goes too", () => {
    assert.equal(
      redact("mongodb://admin:pw@127.0.0.1:27017/beds?authSource=admin"),
      "mongodb://***@127.0.0.1:27017/beds?***",
    );
  });
  await t.step("secrets in the query, with or without credentials before it", () => {
    for (
      const url of [
        "mongodb://m1:27017,m2/beds?tls=true&tlsCertificateKeyFilePassword=Key-S3cret",
        "mongodb+srv://u:p@cluster.example/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:Key-S3cret",
        "amqps://mq.internal:5671/vhost?cacertfile=/ca.pem#Key-S3cret",
      ]
    ) {
      const shown = redact({ url }) as { url: string };
      assert.ok(!shown.url.includes("Key-S3cret"), shown.url);
      assert.ok(shown.url.endsWith("?***"), shown.url);
    }
  });
  await t.step("URLs inside arrays", () => {
    assert.deepEqual(redact({ hosts: ["amqp://u:p@a", "amqp://b"] }), {
      hosts: ["amqp://***@a", "amqp://b"],
    });
  });
  await t.step("a URL without credentials is unchanged", () => {
    assert.equal(redact("mongodb://127.0.0.1:27017"), "mongodb://127.0.0.1:27017");
  });
  await t.step("an @ after the host part is not mistaken for credentials", () => {
    assert.equal(redact("https://example.com/users/@me"), "https://example.com/users/@me");
  });
});

Deno.test("redact() keeps non-secret values and does not modify its input", () => {
  const input = { n: 1, ok: true, none: null, list: [1, "two", { pass: "x" }], name: "beds" };
  const output = redact(input);
  assert.deepEqual(output, { n: 1, ok: true, none: null, list: [1, "two", { pass: "***" }], name: "beds" });
  assert.equal((input.list[2] as { pass: string }).pass, "x", "the input keeps its secret");
  assert.notEqual(output, input);
});

/** Logs with a real logger into a temp file and returns the parsed lines. */
async function logLines(write: (log: ReturnType<typeof createLogger>) => void): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_log_test_" });
  const path = `${dir}/log.jsonl`;
  const fd = openSync(path, "w");
  try {
    const log = createLogger({ level: "info", base: { node: "test" }, fd });
    write(log);
    log.flush();
  } finally {
    closeSync(fd);
  }
  try {
    return await Deno.readTextFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("createLogger() never prints a password logged under pass or password", async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["password at depth 1", { password: "secret-p1" }, "secret-p1"],
    ["pass at depth 1", { pass: "secret-a1" }, "secret-a1"],
    ["password at depth 2", { db: { password: "secret-p2" } }, "secret-p2"],
    ["pass at depth 2", { amqp: { pass: "secret-a2" } }, "secret-a2"],
    ["password at depth 3", { config: { db: { password: "secret-p3" } } }, "secret-p3"],
    ["pass at depth 3", { config: { amqp: { pass: "secret-a3" } } }, "secret-a3"],
  ];
  for (const [name, fields, secret] of cases) {
    await t.step(name, async () => {
      const text = await logLines((log) => log.info({ ...fields, visible: "kept-value" }, "hello"));
      const lines = text.trim().split("\n");
      assert.equal(lines.length, 1);
      assert.ok(!text.includes(secret), `the log line leaks ${secret}: ${text}`);
      const line = JSON.parse(lines[0]!);
      assert.equal(line.msg, "hello");
      assert.equal(line.level, "info");
      assert.equal(line.node, "test");
      assert.equal(line.visible, "kept-value");
      assert.ok(text.includes('"***"'), "the secret is replaced by ***");
    });
  }
});

Deno.test("createLogger() writes JSON lines with level labels and honours the level", async () => {
  const text = await logLines((log) => {
    log.debug("not written");
    log.warn({ n: 1 }, "written");
  });
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, "warn");
  assert.equal(lines[0].msg, "written");
  assert.equal(lines[0].n, 1);
  assert.match(lines[0].time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});
