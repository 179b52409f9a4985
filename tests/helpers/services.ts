/**
 * The one place integration tests get services from. Every test run gets its
 * own exchange, queue prefix and MariaDB schema (names carry a random id),
 * and `cleanup()` removes them again.
 *
 * @module
 */
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import mariadb from "mariadb";
import { dropSchema, loadLabSchema } from "../../lab/db.ts";
import { writeConfigDir } from "../../lab/config_dir.ts";
import { consumerCount as queueConsumers } from "../../lab/bench/env.ts";
import { runCli } from "../../src/cli/mod.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { adminExchangeName, deadLetterQueueName, retryQueueName, workQueueName } from "../../src/amqp/mod.ts";
import { BedsClient } from "../../src/client/mod.ts";
import { createDbUser, type DbUser } from "./faults.ts";
import type { Reply } from "../../src/protocol/mod.ts";

/** Repository root (tests run from it). */
export const ROOT = Deno.cwd();

/** The lab RabbitMQ, as the tests reach it directly. */
export const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

/** A short random id for unique names. */
export function uniqueId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 10);
}

/** An isolated test environment: its own config dir, exchange, queues and schema. */
export interface TestEnv {
  id: string;
  /** Config directory (base = the repo's beds.toml, plus env_test.toml). */
  configDir: string;
  schema: string;
  exchange: string;
  queuePrefix: string;
  /** The loaded, validated config of this environment. */
  config: Config;
  /** Arguments `--config DIR --env test` for CLI calls. */
  cliArgs: string[];
  /** A connected client (created on first use, closed by cleanup). */
  client(): Promise<BedsClient>;
  /** The node's own MariaDB account, when `dedicatedDbUser` was set. */
  dbUser?: DbUser;
  /** Deletes queues, exchange, schema and the config dir. */
  cleanup(): Promise<void>;
}

/** Options for {@link createTestEnv}. */
export interface TestEnvOptions {
  /** Extra TOML appended to env_test.toml. */
  extraToml?: string;
  /** Skip loading the lab schema (the schema is still created). */
  emptySchema?: boolean;
  /** Templates directory. @default the repo's templates/ */
  templatesDir?: string;
  /** Give the node its own MariaDB account (see `dbUser`), so faults can target its sessions. */
  dedicatedDbUser?: boolean;
  /**
   * Extra settings of `[databases.mariadb.master]` (e.g. `{ connections: 1, max_queue: 2 }`),
   * merged into the table env_test.toml already has (TOML forbids declaring it twice).
   */
  master?: Record<string, string | number | boolean>;
  /** Extra settings of `[admin]` (e.g. `{ report_ms: 200 }`), merged into the table the env has. */
  admin?: Record<string, string | number | boolean>;
  /** Extra settings of `[http]` (e.g. `{ allowed_hosts: ["metrics.internal"] }`), merged into the env's table. */
  http?: Record<string, unknown>;
  /** Extra settings of `[gateway]` (e.g. `{ port: 8081 }`), merged into the table the env has. */
  gateway?: Record<string, string | number | boolean>;
  /** Extra settings of `[amqp]` (e.g. `{ reconnect_initial_ms: 3000 }`), merged into the table the env has. */
  amqp?: Record<string, string | number | boolean>;
}

/** Creates an isolated environment with the lab schema loaded. */
export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const id = uniqueId();
  const schema = `beds_t_${id}`;
  const exchange = `beds.t.${id}`;
  const queuePrefix = `t.${id}.`;
  if (options.emptySchema) {
    const empty = await Deno.makeTempDir({ prefix: "beds_empty_sql_" });
    await loadLabSchema({ schema, dir: empty }).finally(() => Deno.remove(empty, { recursive: true }));
  } else {
    await loadLabSchema({ schema });
  }
  const dbUser = options.dedicatedDbUser ? await createDbUser(schema, id) : undefined;
  const configDir = await writeConfigDir({
    base: `${ROOT}/config/beds.toml`,
    env: "test",
    override: {
      log: { level: "silent" },
      amqp: { user: "guest", pass: "guest", exchange, queue_prefix: queuePrefix, ...options.amqp },
      databases: {
        mariadb: {
          master: { user: dbUser?.user ?? "root", password: dbUser?.password ?? "", ...options.master },
          schemas: { lab: schema, logs: schema },
        },
      },
      templates: { dir: options.templatesDir ?? `${ROOT}/templates` },
      admin: { templates_dir: `${ROOT}/templates/admin`, ...options.admin },
      // Free ports, so nodes of one test process never clash (tests/helpers/http.ts finds them).
      http: { port: 0, ...options.http },
      gateway: { port: 0, ...options.gateway },
    },
    extraToml: options.extraToml,
  });
  let config: Config;
  try {
    config = loadConfig({ dir: configDir, environ: { BEDS_ENV: "test" } });
  } catch (error) {
    await dropSchema({ schema });
    await dbUser?.drop();
    await Deno.remove(configDir, { recursive: true }).catch(() => {});
    throw error;
  }
  let client: BedsClient | undefined;
  return {
    id,
    configDir,
    schema,
    exchange,
    queuePrefix,
    config,
    cliArgs: ["--config", configDir, "--env", "test"],
    dbUser,
    async client() {
      client ??= await BedsClient.connect({ amqp: config.amqp, timeoutMs: 10_000 });
      return client;
    },
    async cleanup() {
      await client?.close();
      await deleteTopology(config);
      await dropSchema({ schema });
      await dbUser?.drop();
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
    },
  };
}

async function deleteTopology(config: Config): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const [role, node] of Object.entries(config.nodes)) {
      for (const broker of node.brokers) {
        const queue = workQueueName(config.amqp.queue_prefix, role, broker);
        const tiers = config.brokers[broker]!.retry_delays_ms;
        for (
          const name of [
            queue,
            deadLetterQueueName(queue),
            ...tiers.map((_, i) => retryQueueName(queue, i)),
          ]
        ) {
          await ch.deleteQueue(name);
        }
      }
    }
    await ch.deleteExchange(config.amqp.exchange);
    await ch.deleteExchange(adminExchangeName(config.amqp.exchange));
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Consumers currently attached to a queue (0 if it does not exist). */
export function consumerCount(queue: string): Promise<number> {
  return queueConsumers(AMQP_URL, queue);
}

/** Polls `condition` every 50 ms until true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Output captured from an in-process CLI run. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process and captures its output. */
export async function cli(args: string[], environ: Record<string, string> = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    environ,
    signal: new AbortController().signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A node running in this process. */
export interface RunningNode {
  /** Asks it to stop (like SIGTERM) and resolves with its exit code. */
  stop(): Promise<number>;
  output(): { out: string; err: string };
}

/** Work queues of `role` that have bindings (the ones a node consumes). */
export function workQueues(env: TestEnv, role = "appServer"): string[] {
  return env.config.nodes[role]!.brokers
    .filter((b) => env.config.brokers[b]!.bindings.length)
    .map((b) => workQueueName(env.queuePrefix, role, b));
}

/**
 * Starts `beds run` in-process and waits until every consumer of the role is
 * attached: each bound work queue gains the broker's `instances` consumers
 * (so a second node of the same role is only returned once it really serves).
 */
export async function startNode(
  env: TestEnv,
  role = "appServer",
  instance?: string,
  /** Appended to the command line, e.g. `["--env", "other"]` for another env file (the last wins). */
  extraArgs: string[] = [],
): Promise<RunningNode> {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const args = [
    "run",
    "--node",
    role,
    ...env.cliArgs,
    ...(instance ? ["--instance", instance] : []),
    ...extraArgs,
  ];
  const brokers = env.config.nodes[role]!.brokers.filter((b) => env.config.brokers[b]!.bindings.length);
  const wanted = new Map<string, number>();
  for (const broker of brokers) {
    const queue = workQueueName(env.queuePrefix, role, broker);
    wanted.set(queue, (await consumerCount(queue)) + env.config.brokers[broker]!.instances);
  }
  const done = runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    environ: {},
    signal: controller.signal,
  });
  let finished = false;
  done.finally(() => finished = true);
  await waitFor(
    async () => {
      if (finished) throw new Error(`node exited early: ${err.join("\n")}`);
      for (const [queue, count] of wanted) {
        if (await consumerCount(queue) < count) return false;
      }
      return true;
    },
    15_000,
    `node ${role} consumers`,
  );
  return {
    stop() {
      controller.abort();
      return done;
    },
    output: () => ({ out: out.join("\n"), err: err.join("\n") }),
  };
}

/** Messages ready in a queue (not counting unacked ones); 0 if it does not exist. */
export async function readyCount(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    const info = await ch.checkQueue(queue).catch(() => ({ messageCount: 0 }));
    await ch.close().catch(() => {});
    return info.messageCount;
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Runs one statement as root in the env's schema and returns the driver's result. */
export async function dbQuery<T = Record<string, unknown>[]>(
  env: TestEnv,
  sql: string,
  values: unknown[] = [],
): Promise<T> {
  const conn = await mariadb.createConnection({
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    password: "",
    database: env.schema,
    bigIntAsNumber: true,
  });
  try {
    return await conn.query(sql, values) as T;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** A plain amqplib channel on the env's exchange, for publishing what BedsClient would not. */
export interface RawAmqp {
  /**
   * Publishes `body` (bytes, or anything else as JSON) with `reply_to` set to
   * direct reply-to and resolves with the parsed reply.
   */
  request(routingKey: string, body: unknown, timeoutMs?: number): Promise<Reply>;
  /** Publishes `body` without `reply_to` (fire-and-forget). */
  publish(routingKey: string, body: unknown): void;
  close(): Promise<void>;
}

function bytesOf(body: unknown): Buffer {
  return body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
}

/** Opens a {@link RawAmqp} on the env's exchange. */
export async function openRawAmqp(env: TestEnv): Promise<RawAmqp> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  const pending = new Map<string, (reply: Reply) => void>();
  await ch.consume("amq.rabbitmq.reply-to", (msg) => {
    const settle = msg && pending.get(msg.properties.correlationId);
    if (!msg || !settle) return;
    pending.delete(msg.properties.correlationId);
    settle(JSON.parse(msg.content.toString("utf8")));
  }, { noAck: true });
  let seq = 0;
  return {
    request(routingKey, body, timeoutMs = 10_000) {
      const correlationId = `raw-${seq++}`;
      return new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(correlationId);
          reject(new Error(`no reply to raw ${routingKey} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(correlationId, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        ch.publish(env.exchange, routingKey, bytesOf(body), {
          replyTo: "amq.rabbitmq.reply-to",
          correlationId,
          contentType: "application/json",
        });
      });
    },
    publish(routingKey, body) {
      ch.publish(env.exchange, routingKey, bytesOf(body), { contentType: "application/json" });
    },
    async close() {
      await ch.close().catch(() => {});
      await conn.close().catch(() => {});
    },
  };
}

/** `promise`'s outcome (its value, or the rejection's kind), or "pending" after `ms`. */
export async function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = promise.then((value) => value, (error) => error?.kind ?? String(error));
  try {
    return await Promise.race([
      outcome,
      new Promise((resolve) => timer = setTimeout(resolve, ms, "pending")),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
