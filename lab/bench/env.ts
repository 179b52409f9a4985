/**
 * The bench's own world: a config directory in a temp dir (the repo's
 * `beds.toml` plus an `env_lab.toml` override), a unique exchange, queue
 * prefix and MariaDB schema (loaded with the lab schema by `lab/db.ts`), and
 * the cleanup that removes them all again.
 *
 * @module
 */
import amqp from "amqplib";
import { dropSchema, loadLabSchema } from "../db.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { adminExchangeName, deadLetterQueueName, retryQueueName, workQueueName } from "../../src/amqp/mod.ts";

/** The node role the bench runs. */
export const ROLE = "appServer";

/** A bench environment. */
export interface BenchEnv {
  id: string;
  root: string;
  configDir: string;
  /** `--config DIR --env lab` for `beds run`. */
  cliArgs: string[];
  schema: string;
  config: Config;
  /** Exchanges of the raw (no BEDS) services, deleted by cleanup. */
  rawExchanges: Set<string>;
  /** URL for plain amqplib connections (raw services, cleanup). */
  amqpUrl: string;
  /** Queues the raw services declared, deleted by cleanup. */
  rawQueues: Set<string>;
  cleanup(): Promise<void>;
}

/** Options for {@link createBenchEnv}. */
export interface BenchEnvOptions {
  /** Repository root. @default Deno.cwd() */
  root?: string;
  /** Log level of the node. @default "warn" */
  logLevel?: string;
  /**
   * Where the node records its events: "mariadb" (the bench schema, as a node
   * in production records every request) or "off". @default "mariadb"
   */
  logstore?: "mariadb" | "off";
  /** The base config file to copy. @default `${root}/config/beds.toml` */
  baseConfig?: string;
}

/** Creates the config dir and loads the lab schema into a fresh schema. */
export async function createBenchEnv(options: BenchEnvOptions = {}): Promise<BenchEnv> {
  const root = options.root ?? Deno.cwd();
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schema = `beds_b_${id}`;
  const exchange = `beds.b.${id}`;
  const queuePrefix = `b.${id}.`;
  await loadLabSchema({ schema, dir: `${root}/lab/sql` });
  const configDir = await Deno.makeTempDir({ prefix: "beds_bench_" });
  await Deno.copyFile(options.baseConfig ?? `${root}/config/beds.toml`, `${configDir}/beds.toml`);
  await Deno.writeTextFile(
    `${configDir}/env_lab.toml`,
    `# Written by lab/bench for one run.
[node]
drain_ms = 2000

[log]
level = "${options.logLevel ?? "warn"}"

[amqp]
user = "guest"
pass = "guest"
exchange = "${exchange}"
queue_prefix = "${queuePrefix}"

[databases.mariadb.master]
user = "root"
password = ""

[databases.mariadb.schemas]
lab = "${schema}"
logs = "${schema}"

[templates]
dir = "${root}/templates"

[logstore]
store = "${options.logstore ?? "mariadb"}"
templates_dir = "${root}/templates/logstore"

# Free ports: several nodes (and other people's) may run on this host.
[http]
port = 0

[gateway]
port = 0
`,
  );
  const config = loadConfig({ dir: configDir, environ: { BEDS_ENV: "lab" } });
  const amqpUrl = `amqp://guest:guest@${config.amqp.host}:${config.amqp.port}`;
  const rawQueues = new Set<string>();
  const rawExchanges = new Set<string>();
  return {
    id,
    root,
    configDir,
    cliArgs: ["--config", configDir, "--env", "lab"],
    schema,
    config,
    rawExchanges,
    amqpUrl,
    rawQueues,
    async cleanup() {
      await deleteTopology(amqpUrl, config, [...rawQueues], [...rawExchanges]).catch((error) => {
        console.error(`bench: cleanup of queues failed: ${(error as Error).message}`);
      });
      await dropSchema({ schema }).catch(() => {});
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
    },
  };
}

async function deleteTopology(url: string, config: Config, rawQueues: string[], rawExchanges: string[]) {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const queues = [...rawQueues];
    for (const broker of config.nodes[ROLE]!.brokers) {
      const queue = workQueueName(config.amqp.queue_prefix, ROLE, broker);
      const tiers = config.brokers[broker]!.retry_delays_ms;
      queues.push(queue, deadLetterQueueName(queue), ...tiers.map((_, i) => retryQueueName(queue, i)));
    }
    for (const queue of queues) await ch.deleteQueue(queue);
    for (const exchange of [config.amqp.exchange, adminExchangeName(config.amqp.exchange), ...rawExchanges]) {
      await ch.deleteExchange(exchange);
    }
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Consumers attached to `queue` now (0 when it does not exist). */
export async function consumerCount(url: string, queue: string): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    const info = await ch.checkQueue(queue).catch(() => ({ consumerCount: 0 }));
    await ch.close().catch(() => {});
    return info.consumerCount;
  } finally {
    await conn.close().catch(() => {});
  }
}
