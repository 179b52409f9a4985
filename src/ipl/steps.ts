/**
 * The IPL steps in order. `beds check` runs them up to template
 * verification; `beds run` runs them all. Each has a distinct exit code.
 *
 * @module
 */
import {
  type AmqpConnection,
  amqpEndpoint,
  amqpUser,
  createAmqpSupervisor,
  declareTopology,
  describeAmqp,
} from "../amqp/mod.ts";
import { createMariadbAdapter } from "../adapters/mod.ts";
import { createRegistry, createRegistryHolder, loadTemplates, recTemplates } from "../templates/mod.ts";
import { createBrokerPool, startAdminListener } from "../brokers/mod.ts";
import { createAccessPolicy } from "../dispatch/mod.ts";
import { describeTlsError } from "../tls.ts";

import type { IplContext } from "./context.ts";
import { reloadTemplates } from "./reload.ts";
import { fanOut } from "../logstore/mod.ts";
import type { IplStep, StepOutcome } from "./runner.ts";
import { tcpReachable } from "./reachability.ts";
import { openLogStore } from "./logstore.ts";
import { mongoEndpoint, openMongodb } from "./mongodb.ts";
import { startGateway, startNodeHttp } from "./http.ts";

/** Exit codes of failed IPL steps (2 is CLI usage, 1 anything else). */
export const EXIT_CODES = {
  config: 10,
  reachability: 11,
  amqp_auth: 12,
  topology: 13,
  db_pools: 14,
  templates_load: 15,
  templates_verify: 16,
  broker_pool: 17,
  logstore: 18,
  http: 19,
  gateway: 20,
} as const;

function roleBrokers(ctx: IplContext) {
  const role = ctx.config.nodes[ctx.role];
  if (!role) throw new Error(`Node "${ctx.role}" is not defined in [nodes]`);
  return role.brokers.map((name) => ({ name, config: ctx.config.brokers[name]! }));
}

const reachability: IplStep<IplContext> = {
  name: "reachability",
  exitCode: EXIT_CODES.reachability,
  async run(ctx) {
    const { config } = ctx;
    const timeout = config.amqp.connect_timeout_ms;
    const services: Array<{ name: string; host: string; port: number; optional: boolean }> = [
      { name: "amqp", ...amqpEndpoint(config.amqp), optional: false },
    ];
    const maria = config.databases.mariadb;
    if (maria) {
      services.push({
        name: "mariadb master",
        host: maria.master.host,
        port: maria.master.port,
        optional: false,
      });
      if (maria.secondary) {
        services.push({
          name: "mariadb secondary",
          host: maria.secondary.host,
          port: maria.secondary.port,
          optional: false,
        });
      }
    }
    const mongo = config.databases.mongodb;
    if (mongo) services.push({ name: "mongodb", ...mongoEndpoint(mongo.url), optional: mongo.optional });

    const results = await Promise.all(
      services.map(async (s) => ({ ...s, up: await tcpReachable(s.host, s.port, timeout) })),
    );
    const down = results.filter((r) => !r.up);
    const fatal = down.filter((r) => !r.optional || config.env === "prod");
    const label = (r: typeof results[number]) => `${r.name} ${r.host}:${r.port}`;
    if (fatal.length) throw new Error(`Unreachable: ${fatal.map(label).join(", ")}`);
    return {
      detail: results.map((r) => `${label(r)} ${r.up ? "up" : "down"}`).join("; "),
      warnings: down.map((r) => `optional service ${label(r)} is down`),
    };
  },
};

/** One line for a failed connect: a TLS certificate problem in plain words, else the driver's message. */
function failureReason(error: unknown): string {
  const tls = describeTlsError(error) ?? describeTlsError((error as Error | null)?.cause);
  return tls ?? String((error as Error | null)?.message ?? error).split("\n")[0]!;
}

const amqpAuth: IplStep<IplContext> = {
  name: "amqp_auth",
  exitCode: EXIT_CODES.amqp_auth,
  async run(ctx) {
    const where = describeAmqp(ctx.config.amqp);
    const sinks = fanOut(ctx.sinks);
    const supervisor = createAmqpSupervisor({
      config: ctx.config.amqp,
      name: `beds ${ctx.role} ${ctx.instance}`,
      onStatus: (status) => {
        const level = status.type === "connected" || status.type === "closed" ? "info" : "warn";
        ctx.logger[level]({ amqp: status }, `amqp ${status.type}`);
        sinks.emit({ kind: "status", at: new Date().toISOString(), node: ctx.instance, status });
      },
      onLost: () => ctx.pool?.detach(),
    });
    try {
      await supervisor.start();
    } catch (error) {
      throw new Error(
        `AMQP login to ${where} as "${amqpUser(ctx.config.amqp)}" failed: ${failureReason(error)}`,
      );
    }
    ctx.amqp = supervisor;
    return {
      detail: `connected to ${where}`,
      undo: async () => {
        ctx.amqp = undefined;
        await supervisor.stop();
      },
    };
  },
};

function declareRole(ctx: IplContext) {
  return async (connection: AmqpConnection) => {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    try {
      ctx.declared = await declareTopology(channel, {
        exchange: ctx.config.amqp.exchange,
        queuePrefix: ctx.config.amqp.queue_prefix,
        role: ctx.role,
        brokers: roleBrokers(ctx),
      });
    } finally {
      await channel.close().catch(() => {});
    }
  };
}

const topology: IplStep<IplContext> = {
  name: "topology",
  exitCode: EXIT_CODES.topology,
  async run(ctx) {
    // Registered with the supervisor, so it runs again after every reconnect.
    await ctx.amqp!.addSetup(declareRole(ctx));
    const declared = ctx.declared ?? [];
    const bindings = declared.reduce((n, q) => n + q.bindings.length, 0);
    return {
      detail: `exchange "${ctx.config.amqp.exchange}", ${declared.length} work queues, ${bindings} bindings`,
    };
  },
};

async function openMariadb(ctx: IplContext): Promise<StepOutcome> {
  const maria = ctx.config.databases.mariadb;
  if (!maria) return { detail: "no MariaDB configured" };
  const adapter = createMariadbAdapter({ config: maria, logger: ctx.logger });
  try {
    await adapter.open();
  } catch (error) {
    throw new Error(failureReason(error), { cause: error });
  }
  ctx.mariadb = adapter;
  ctx.adapters.set("mariadb", adapter);
  return {
    detail: `mariadb ${maria.master.host}:${maria.master.port} × ${maria.master.connections}` +
      (maria.secondary ? `, secondary ${maria.secondary.host}:${maria.secondary.port}` : ""),
    undo: async () => {
      ctx.adapters.delete("mariadb");
      await adapter.close();
    },
  };
}

const dbPools: IplStep<IplContext> = {
  name: "db_pools",
  exitCode: EXIT_CODES.db_pools,
  async run(ctx) {
    const maria = await openMariadb(ctx);
    let mongo: StepOutcome;
    try {
      mongo = await openMongodb(ctx);
    } catch (error) {
      await maria.undo?.();
      throw error;
    }
    return {
      detail: [maria.detail, mongo.detail].filter(Boolean).join("; "),
      warnings: mongo.warnings,
      undo: async () => {
        await mongo.undo?.();
        await maria.undo?.();
      },
    };
  },
};

const templatesLoad: IplStep<IplContext> = {
  name: "templates_load",
  exitCode: EXIT_CODES.templates_load,
  async run(ctx) {
    ctx.templates = await loadTemplates(ctx.config.templatesDir);
    for (const t of recTemplates(ctx.templates)) {
      if (!ctx.adapters.has(t.store)) {
        throw new Error(
          `Template "${t.name}" (${t.file}) needs store ${t.store}, which this node does not have`,
        );
      }
    }
    ctx.registry = createRegistryHolder(createRegistry(ctx.templates));
    return { detail: `${ctx.templates.length} templates from ${ctx.config.templatesDir}` };
  },
};

const templatesVerify: IplStep<IplContext> = {
  name: "templates_verify",
  exitCode: EXIT_CODES.templates_verify,
  async run(ctx) {
    const problems = [];
    const recs = recTemplates(ctx.templates ?? []);
    for (const adapter of ctx.adapters.values()) problems.push(...await adapter.verify(recs));
    ctx.problems = problems;
    if (problems.length) {
      const first = problems[0]!;
      throw new Error(
        `${problems.length} template problem(s); first: template "${first.template}" ${first.path}: ${first.message}`,
      );
    }
    return { detail: `${ctx.templates?.length ?? 0} templates match the database` };
  },
};

const brokerPool: IplStep<IplContext> = {
  name: "broker_pool",
  exitCode: EXIT_CODES.broker_pool,
  async run(ctx) {
    const { config } = ctx;
    const registry = ctx.registry!;
    const access = createAccessPolicy({ config: config.access, nodeUser: amqpUser(config.amqp) });
    const pool = createBrokerPool({
      role: ctx.role,
      queuePrefix: config.amqp.queue_prefix,
      brokers: roleBrokers(ctx),
      node: ctx.instance,
      maxBodyBytes: config.limits.max_body_bytes,
      deps: { registry: () => registry.current(), adapters: ctx.adapters, limits: config.limits, access },
      eventIds: ctx.eventIds,
      events: fanOut(ctx.sinks),
      logger: ctx.logger,
      beforeRestart: declareRole(ctx),
    });
    ctx.pool = pool;
    await ctx.amqp!.addSetup(async (connection) => {
      await pool.attach(connection);
      await startAdminListener(connection, {
        exchange: config.amqp.exchange,
        queuePrefix: config.amqp.queue_prefix,
        instance: ctx.instance,
        logger: ctx.logger,
        authorize: access.mayAdminister,
        handlers: {
          status: () => nodeStatus(ctx),
          reload: () => reloadTemplates(ctx),
          shutdown: () => {
            setTimeout(() => ctx.requestStop?.(), 0);
            return { stopping: true };
          },
        },
      });
    });
    const consumers = pool.status().reduce((n, s) => n + s.consumers, 0);
    const users = Object.keys(config.access.users).length;
    return {
      detail: `${pool.status().length} brokers, ${consumers} consumers, access control ${
        access.enabled ? `on (${users} users, ${config.access.admin_users.length} admins)` : "off"
      }`,
    };
  },
};

/** The status a node reports to `beds status` and admin tools. */
export function nodeStatus(ctx: IplContext): Record<string, unknown> {
  return {
    node: ctx.instance,
    role: ctx.role,
    env: ctx.config.env,
    uptimeMs: Date.now() - ctx.startedAt,
    amqpReconnects: ctx.amqp?.reconnects() ?? 0,
    brokers: ctx.pool?.status() ?? [],
    databases: Object.fromEntries([...ctx.adapters].map(([name, a]) => [name, a.health()])),
    logstore: ctx.logstore ? { store: ctx.config.logstore.store, ...ctx.logstore.stats() } : { store: "off" },
    http: ctx.http ? { host: ctx.http.host, port: ctx.http.port } : undefined,
    gateway: ctx.gateway
      ? { host: ctx.gateway.host, port: ctx.gateway.port, connected: ctx.gateway.connected() }
      : undefined,
  };
}

const http: IplStep<IplContext> = {
  name: "http",
  exitCode: EXIT_CODES.http,
  run: (ctx) => Promise.resolve(startNodeHttp(ctx)),
};

const gateway: IplStep<IplContext> = {
  name: "gateway",
  exitCode: EXIT_CODES.gateway,
  run: startGateway,
};

/** Opens the log store and adds its sink before any consumer can emit events. */
const logstore: IplStep<IplContext> = {
  name: "logstore",
  exitCode: EXIT_CODES.logstore,
  run: openLogStore,
};

/** Steps `beds check` runs: everything up to template verification. */
export const CHECK_STEPS: readonly IplStep<IplContext>[] = [
  reachability,
  amqpAuth,
  topology,
  dbPools,
  templatesLoad,
  templatesVerify,
];

/** Steps `beds run` runs before the node is resident. */
export const RUN_STEPS: readonly IplStep<IplContext>[] = [
  ...CHECK_STEPS,
  logstore,
  brokerPool,
  http,
  gateway,
];
