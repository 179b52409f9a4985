/**
 * Where a soak run happens. Its own world (the default): a temp config dir,
 * a unique exchange, queue prefix and MariaDB schema with the lab data, and a
 * MariaDB account of its own whose sessions the faults may kill; cleanup
 * removes them all. Or an external node's world: its config, read only.
 *
 * @module
 */
import amqp from "amqplib";
import mariadb from "mariadb";
import { dropSchema, loadLabSchema } from "../db.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { adminExchangeName, deadLetterQueueName, retryQueueName, workQueueName } from "../../src/amqp/mod.ts";

/** The node role the soak drives. */
export const ROLE = "appServer";

/** What the soak needs to know about the system under test. */
export interface SoakEnv {
  root: string;
  config: Config;
  /** `--config DIR --env ENV` for `beds run`. */
  cliArgs: string[];
  /** Physical schema of the lab templates. */
  schema: string;
  /** URL for the soak's own amqplib connections (queue counts, cleanup). */
  amqpUrl: string;
  /** MariaDB account of the node whose sessions may be killed, if known. */
  dbUser?: string;
  /** Removes what the soak created (nothing for an external node). */
  cleanup(): Promise<void>;
}

/** An administrator's MariaDB login. */
export interface AdminDb {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** How the soak reaches MariaDB as an administrator (the lab loader's variables). */
export function adminDb(): AdminDb {
  return {
    host: Deno.env.get("BEDS_MARIADB_HOST") || "127.0.0.1",
    port: Number(Deno.env.get("BEDS_MARIADB_PORT") || 3306),
    user: Deno.env.get("BEDS_MARIADB_USER") || "root",
    password: Deno.env.get("BEDS_MARIADB_PASSWORD") ?? "",
  };
}

/** Settings of the soak's own node: quick retries, so writes hit by faults heal within the run. */
function soakToml(o: { exchange: string; prefix: string; schema: string; user: string; password: string }) {
  const db = adminDb();
  return `# Written by lab/soak.ts for one run.
[node]
drain_ms = 5000

[log]
level = "info"   # the amqp status events tell when the node was away and back

[amqp]
user = "guest"
pass = "guest"
exchange = "${o.exchange}"
queue_prefix = "${o.prefix}"

[brokers.wBroker]
ops = ["create", "update", "delete"]
bindings = ["create.*", "update.*", "delete.*"]
instances = 2
prefetch = 50
queue_type = "quorum"
retry_delays_ms = [200, 500, 1000, 2000, 4000]
max_attempts = 8

[databases.mariadb.master]
host = "${db.host}"
port = ${db.port}
user = "${o.user}"
password = "${o.password}"

[databases.mariadb.schemas]
lab = "${o.schema}"

[logstore]
store = "off"

[http]
port = 0

[gateway]
port = 0
`;
}

/** Creates the soak's own config, schema and MariaDB account. */
export async function createOwnEnv(root: string): Promise<SoakEnv> {
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schema = `beds_soak_${id}`;
  const user = `soak_${id}`;
  const password = `pw_${id}`;
  const exchange = `beds.soak.${id}`;
  const db = adminDb();
  await loadLabSchema({ ...db, schema, dir: `${root}/lab/sql` });
  const admin = await mariadb.createConnection(db);
  try {
    for (const host of ["%", "localhost"]) {
      await admin.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
      await admin.query(`GRANT SELECT, EXECUTE ON \`${schema}\`.* TO '${user}'@'${host}'`);
    }
  } finally {
    await admin.end();
  }
  const configDir = await Deno.makeTempDir({ prefix: "beds_soak_" });
  await Deno.copyFile(`${root}/config/beds.toml`, `${configDir}/beds.toml`);
  await Deno.writeTextFile(
    `${configDir}/env_lab.toml`,
    soakToml({ exchange, prefix: `soak.${id}.`, schema, user, password }) +
      `\n[templates]\ndir = "${root}/templates"\n`,
  );
  const config = loadConfig({ dir: configDir, environ: { BEDS_ENV: "lab" } });
  const amqpUrl = `amqp://guest:guest@${config.amqp.host}:${config.amqp.port}`;
  return {
    root,
    config,
    cliArgs: ["--config", configDir, "--env", "lab"],
    schema,
    amqpUrl,
    dbUser: user,
    async cleanup() {
      await deleteTopology(amqpUrl, config).catch((e) => console.error(`soak: cleanup: ${e.message}`));
      await dropSchema({ ...db, schema }).catch(() => {});
      const c = await mariadb.createConnection(db);
      try {
        for (const host of ["%", "localhost"]) await c.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      } finally {
        await c.end();
      }
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Reads an external node's config (the soak creates and removes nothing). */
export function externalEnv(
  root: string,
  options: { configDir: string; env: string; dbUser?: string; amqpUrl?: string },
): SoakEnv {
  const config = loadConfig({
    dir: options.configDir,
    environ: { ...Deno.env.toObject(), BEDS_ENV: options.env },
  });
  const a = config.amqp;
  return {
    root,
    config,
    cliArgs: ["--config", options.configDir, "--env", options.env],
    schema: config.databases.mariadb?.schemas.lab ?? "beds_lab",
    amqpUrl: options.amqpUrl ?? a.url ??
      `amqp://${encodeURIComponent(a.user)}:${encodeURIComponent(a.pass)}@${a.host}:${a.port}/${
        encodeURIComponent(a.vhost)
      }`,
    dbUser: options.dbUser,
    cleanup: () => Promise.resolve(),
  };
}

/** Work queues of the role that have bindings. */
export function boundQueues(env: SoakEnv): string[] {
  return env.config.nodes[ROLE]!.brokers
    .filter((b) => env.config.brokers[b]!.bindings.length)
    .map((b) => workQueueName(env.config.amqp.queue_prefix, ROLE, b));
}

/** Every queue of the role: work, retry tiers and dead letters. */
export function allQueues(env: SoakEnv): { work: string[]; retry: string[]; dead: string[] } {
  const out = { work: [] as string[], retry: [] as string[], dead: [] as string[] };
  for (const broker of env.config.nodes[ROLE]!.brokers) {
    const queue = workQueueName(env.config.amqp.queue_prefix, ROLE, broker);
    out.work.push(queue);
    out.dead.push(deadLetterQueueName(queue));
    out.retry.push(...env.config.brokers[broker]!.retry_delays_ms.map((_, i) => retryQueueName(queue, i)));
  }
  return out;
}

/** Message and consumer counts of `queue` (zeros when it does not exist). */
export async function queueCounts(
  url: string,
  queue: string,
): Promise<{ messages: number; consumers: number }> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    const info = await ch.checkQueue(queue).catch(() => ({ messageCount: 0, consumerCount: 0 }));
    await ch.close().catch(() => {});
    return { messages: info.messageCount, consumers: info.consumerCount };
  } finally {
    await conn.close().catch(() => {});
  }
}

async function deleteTopology(url: string, config: Config): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const { work, retry, dead } = allQueues({ config } as SoakEnv);
    for (const queue of [...work, ...retry, ...dead]) await ch.deleteQueue(queue);
    await ch.deleteExchange(config.amqp.exchange);
    await ch.deleteExchange(adminExchangeName(config.amqp.exchange));
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
  }
}
