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
import { writeConfigDir } from "../config_dir.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { adminExchangeName, deadLetterQueueName, retryQueueName, workQueueName } from "../../src/amqp/mod.ts";

/** The node role the bench runs. */
export const ROLE = "appServer";

/** A config a node runs with: its directory, `beds run` flags and the loaded config. */
export interface BenchWorld {
  configDir: string;
  /** `--config DIR --env lab` for `beds run`. */
  cliArgs: string[];
  config: Config;
}

/** What a variant world changes. */
export interface VariantOverrides {
  /** `[http] enabled`; false also turns the metrics sink off. @default true */
  http?: boolean;
  /** Further settings by section, laid over the bench's own (e.g. `{ logstore: { flush_ms: 100 } }`). */
  sections?: Record<string, Record<string, unknown>>;
}

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
  /** Pipelined MariaDB connections of the node, and of the raw ceiling's pipelined access. */
  dbConnections: number;
  /**
   * A second config on the same schema with its own exchange and queue prefix (so its node
   * never takes the main node's requests) and some settings changed; removed by cleanup.
   */
  variant(tag: string, overrides: VariantOverrides): Promise<BenchWorld>;
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
  /** `[logstore] fold_parts`: a fan-out's parts inside their parent's record. @default true */
  foldParts?: boolean;
  /** The base config file to copy. @default `${root}/config/beds.toml` */
  baseConfig?: string;
  /** Pipelined MariaDB connections, the node's and the raw ceiling's alike. @default {@link DB_CONNECTIONS} */
  dbConnections?: number;
}

/**
 * The node's pipelined MariaDB connections in the bench, and the raw ceiling's: the same for both.
 * Each connection is one MariaDB server thread. On this 2-core host, 2 beat the production
 * default of 4 in interleaved A/B rounds (node CPU per fan-out −24 % at 150/s and −8 % saturated,
 * per read −3.5 % at +10 % throughput): fewer server threads are woken per batch of queries.
 */
export const DB_CONNECTIONS = 2;

/** Creates the config dir and loads the lab schema into a fresh schema. */
export async function createBenchEnv(options: BenchEnvOptions = {}): Promise<BenchEnv> {
  const root = options.root ?? Deno.cwd();
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schema = `beds_b_${id}`;
  const exchange = `beds.b.${id}`;
  const queuePrefix = `b.${id}.`;
  await loadLabSchema({ schema, dir: `${root}/lab/sql` });
  const base = options.baseConfig ?? `${root}/config/beds.toml`;
  const settings = {
    root,
    schema,
    logLevel: options.logLevel ?? "warn",
    logstore: options.logstore ?? "mariadb",
    foldParts: options.foldParts ?? true,
    dbConnections: options.dbConnections ?? DB_CONNECTIONS,
  };
  const main = await writeWorld(base, { ...settings, exchange, queuePrefix, http: true });
  const amqpUrl = `amqp://guest:guest@${main.config.amqp.host}:${main.config.amqp.port}`;
  const rawQueues = new Set<string>();
  const rawExchanges = new Set<string>();
  const variants: BenchWorld[] = [];
  return {
    id,
    root,
    configDir: main.configDir,
    cliArgs: main.cliArgs,
    schema,
    config: main.config,
    rawExchanges,
    amqpUrl,
    rawQueues,
    dbConnections: settings.dbConnections,
    async variant(tag, overrides) {
      const world = await writeWorld(base, {
        ...settings,
        exchange: `${exchange}.${tag}`,
        queuePrefix: `${queuePrefix}${tag}.`,
        http: overrides.http ?? true,
        sections: overrides.sections,
      });
      variants.push(world);
      return world;
    },
    async cleanup() {
      for (const world of [main, ...variants]) {
        const raw = world === main ? { queues: [...rawQueues], exchanges: [...rawExchanges] } : undefined;
        await deleteTopology(amqpUrl, world.config, raw?.queues ?? [], raw?.exchanges ?? []).catch(
          (error) => {
            console.error(`bench: cleanup of queues failed: ${(error as Error).message}`);
          },
        );
        await Deno.remove(world.configDir, { recursive: true }).catch(() => {});
      }
      await dropSchema({ schema }).catch(() => {});
    },
  };
}

interface WorldSettings {
  root: string;
  schema: string;
  logLevel: string;
  logstore: string;
  foldParts: boolean;
  dbConnections: number;
  exchange: string;
  queuePrefix: string;
  /** `[http] enabled`: health and metrics (the metrics sink counts every request). */
  http: boolean;
  sections?: Record<string, Record<string, unknown>>;
}

/** Writes a config dir (`base` plus an `env_lab.toml` override) and loads it. */
async function writeWorld(base: string, s: WorldSettings): Promise<BenchWorld> {
  const override: Record<string, Record<string, unknown>> = {
    node: { drain_ms: 2000 },
    log: { level: s.logLevel },
    amqp: { user: "guest", pass: "guest", exchange: s.exchange, queue_prefix: s.queuePrefix },
    databases: {
      mariadb: {
        master: { user: "root", password: "", connections: s.dbConnections },
        schemas: { lab: s.schema, logs: s.schema },
      },
    },
    templates: { dir: `${s.root}/templates` },
    logstore: { store: s.logstore, fold_parts: s.foldParts, templates_dir: `${s.root}/templates/logstore` },
    // Free ports: several nodes (and other people's) may run on this host.
    http: { enabled: s.http, port: 0 },
    gateway: { port: 0 },
  };
  for (const [section, values] of Object.entries(s.sections ?? {})) {
    override[section] = { ...override[section], ...values };
  }
  const configDir = await writeConfigDir({
    base,
    env: "lab",
    prefix: "beds_bench_",
    comment: "Written by lab/bench for one run.",
    override,
  });
  const config = loadConfig({ dir: configDir, environ: { BEDS_ENV: "lab" } });
  return { configDir, cliArgs: ["--config", configDir, "--env", "lab"], config };
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
