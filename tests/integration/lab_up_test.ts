import assert from "node:assert/strict";
import mariadb from "mariadb";
import { isLocalHost } from "../../lab/up.ts";
import { ROOT, uniqueId } from "../helpers/services.ts";

async function labUp(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lab/up.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("lab:up finds the running services, logs in with the lab config and loads the lab schema", async () => {
  const schema = `beds_t_up_${uniqueId()}`;
  try {
    // Tests never start or stop services: only what is running is looked at.
    const { code, out } = await labUp(["--schema", schema, "--no-docker", "--no-start"]);
    assert.equal(code, 0, out);
    assert.match(out, /lab:up: no Docker \(--no-docker\); local services/);
    assert.match(out, /RabbitMQ\s+127\.0\.0\.1:5672\s+running\s+login guest ok/);
    assert.match(
      out,
      new RegExp(`MariaDB\\s+127\\.0\\.0\\.1:3306\\s+running\\s+login root ok, lab schema "${schema}"`),
    );
    assert.match(out, /MongoDB\s+127\.0\.0\.1:27017\s+\w+/);
    assert.match(out, /lab:up: ready/);
    const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: schema });
    try {
      const [row] = await conn.query("SELECT COUNT(*) AS n FROM v_customers") as Array<
        { n: number | bigint }
      >;
      assert.ok(Number(row!.n) > 0, "the lab data is loaded");
    } finally {
      await conn.end();
    }
  } finally {
    const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root" });
    await conn.query(`DROP DATABASE IF EXISTS \`${schema}\``);
    await conn.end();
  }
});

Deno.test("lab:up says what is missing and exits 1 when MariaDB cannot be reached", async () => {
  // A port nothing listens on, in a config of its own.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const dir = await Deno.makeTempDir({ prefix: "beds_up_" });
  try {
    await Deno.copyFile(`${ROOT}/config/beds.toml`, `${dir}/beds.toml`);
    await Deno.writeTextFile(
      `${dir}/env_lab.toml`,
      `[amqp]\nuser = "guest"\npass = "guest"\n\n[databases.mariadb.master]\nuser = "root"\npassword = ""\nport = ${port}\n`,
    );
    const { code, out } = await labUp([
      "--config",
      dir,
      "--no-start",
      "--no-docker",
      "--schema",
      "beds_unused",
    ]);
    assert.equal(code, 1, out);
    assert.match(out, /lab:up: no Docker \(--no-docker\)/);
    assert.match(out, /RabbitMQ\s+127\.0\.0\.1:5672\s+running/);
    assert.match(
      out,
      new RegExp(`MariaDB\\s+127\\.0\\.0\\.1:${port}\\s+missing\\s+not reachable \\(--no-start\\)`),
    );
    assert.match(out, /lab:up: not ready: MariaDB/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lab:up starts services only for an address of this machine", () => {
  assert.equal(isLocalHost("127.0.0.1"), true);
  assert.equal(isLocalHost("LOCALHOST"), true);
  assert.equal(isLocalHost("::1"), true);
  assert.equal(isLocalHost("db.internal"), false);
  assert.equal(isLocalHost("10.0.0.5"), false);
});
