/**
 * The compose file, checked without a Docker engine: what it declares, and
 * MariaDB's first-start init replayed as the image's entrypoint runs it
 * (each `lab/sql/*.sql` in name order, through the plain `mariadb` client,
 * into MARIADB_DATABASE).
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { parse } from "yaml";
import { ROOT, uniqueId } from "../helpers/services.ts";

interface Service {
  image: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[]; interval: string; retries: number };
}

const compose = parse(await Deno.readTextFile(`${ROOT}/docker-compose.yml`)) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

Deno.test("docker-compose.yml: RabbitMQ with management, MariaDB and MongoDB, health-checked, on localhost only", () => {
  const { services } = compose;
  assert.deepEqual(Object.keys(services).sort(), ["mariadb", "mongodb", "rabbitmq"]);
  assert.match(services.rabbitmq!.image, /^rabbitmq:[\d.]+-management$/);
  assert.ok(services.rabbitmq!.ports!.some((p) => p.endsWith(":15672")), "management UI published");
  for (const [name, service] of Object.entries(services)) {
    assert.ok(service.healthcheck?.test.length, `${name} has a health check`);
    for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name}: ${port}`);
  }
  const published = Object.values(services).flatMap((s) => s.ports ?? []).map((p) => p.split(":")[1]);
  for (const port of ["5672", "3306", "27017"]) assert.ok(published.includes(port), `port ${port}`);
  assert.ok(services.mariadb!.volumes!.includes("./lab/sql:/docker-entrypoint-initdb.d:ro"));
  assert.equal(services.mariadb!.environment!.MARIADB_DATABASE, "beds_lab");
  for (const volume of Object.keys(compose.volumes)) {
    assert.ok(Object.values(services).some((s) => s.volumes?.some((v) => v.startsWith(`${volume}:`))));
  }
});

Deno.test("MariaDB's init directory loads with the plain client, as the image's first start runs it", async () => {
  const schema = `beds_t_init_${uniqueId()}`;
  const root = await mariadb.createConnection({ host: "127.0.0.1", user: "root" });
  try {
    // What the entrypoint does for MARIADB_DATABASE (the server's utf8mb4 default comes from `command`).
    await root.query(`CREATE DATABASE \`${schema}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    const files = [...Deno.readDirSync(`${ROOT}/lab/sql`)].map((e) => e.name).filter((n) =>
      n.endsWith(".sql")
    );
    assert.ok(files.length >= 5, files.join(", "));
    for (const file of files.sort()) {
      const child = new Deno.Command("mariadb", {
        args: ["-h", "127.0.0.1", "-u", "root", schema],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(await Deno.readFile(`${ROOT}/lab/sql/${file}`));
      await writer.close();
      const out = await child.output();
      assert.equal(out.code, 0, `${file}: ${new TextDecoder().decode(out.stderr)}`);
    }
    const [counts] = await root.query(
      `SELECT (SELECT COUNT(*) FROM \`${schema}\`.v_customers) AS customers,
              (SELECT COUNT(*) FROM \`${schema}\`.v_products) AS products,
              (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) AS routines`,
      [schema],
    ) as Array<Record<string, bigint | number>>;
    const n = Object.fromEntries(Object.entries(counts!).map(([k, v]) => [k, Number(v)]));
    assert.ok(n.customers! > 0 && n.products! > 0, JSON.stringify(n));
    assert.ok(n.routines! >= 10, JSON.stringify(n));
  } finally {
    await root.query(`DROP DATABASE IF EXISTS \`${schema}\``).catch(() => {});
    await root.end();
  }
});
