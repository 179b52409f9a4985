/**
 * The IPL steps in order. `beds check` runs them up to template
 * verification; `beds run` runs them all. Each has a distinct exit code.
 *
 * @module
 */
import { amqpEndpoint, amqpUser, createAmqpSupervisor, describeAmqp } from "../amqp/mod.ts";
import { createMariadbAdapter } from "../adapters/mod.ts";
import type { ConnectionSetHealth } from "../adapters/mariadb/connections.ts";
import { createRegistry, createRegistryHolder } from "../templates/mod.ts";
import { loadRoleTemplates, servesAdminExchange } from "./role_templates.ts";
import { openAdminLink } from "./admin_link.ts";
import { describeTlsError } from "../tls.ts";
import { unverifiedTls } from "../config/load.ts";
import type { Config } from "../config/mod.ts";
import { describeAmqpLoginFailure } from "../amqp/login_failure.ts";

import type { IplContext } from "./context.ts";
import { EXIT_CODES } from "./exit_codes.ts";
import { declareRole } from "./roles.ts";
import { brokerPool } from "./broker_pool.ts";
import { fanOut } from "../logstore/mod.ts";
import type { IplStep, StepOutcome } from "./runner.ts";
import { tcpReachable } from "./reachability.ts";
import { openLogStore } from "./logstore.ts";
import { anySeedReachable, describeSeeds, mongoSeeds, openMongodb } from "./mongodb.ts";
import { startGateway, startNodeHttp } from "./http.ts";
import { verifyStores } from "./verify_stores.ts";

/** A service the reachability step probes: up when `probe` resolves true. */
interface Probed {
  name: string;
  /** `host:port`, or a seed list's `host:port,host:port`. */
  where: string;
  optional: boolean;
  probe: () => Promise<boolean>;
}

const reachability: IplStep<IplContext> = {
  name: "reachability",
  exitCode: EXIT_CODES.reachability,
  async run(ctx) {
    const { config } = ctx;
    const timeout = config.amqp.connect_timeout_ms;
    const tcp = (name: string, { host, port }: { host: string; port: number }): Probed => ({
      name,
      where: `${host}:${port}`,
      optional: false,
      probe: () => tcpReachable(host, port, timeout),
    });
    const services: Probed[] = [tcp("amqp", amqpEndpoint(config.amqp))];
    const maria = config.databases.mariadb;
    if (maria) {
      services.push(tcp("mariadb master", maria.master));
      if (maria.secondary) services.push(tcp("mariadb secondary", maria.secondary));
    }
    const mongo = config.databases.mongodb;
    // An SRV name (or a socket path) is no host to probe: opening the adapter (db_pools) decides.
    const seeds = mongo && mongoSeeds(mongo.url);
    if (seeds) {
      services.push({
        name: "mongodb",
        where: describeSeeds(seeds),
        optional: mongo!.optional,
        probe: () => anySeedReachable(seeds, timeout),
      });
    }

    const results = await Promise.all(services.map(async (s) => ({ ...s, up: await s.probe() })));
    const down = results.filter((r) => !r.up);
    const fatal = down.filter((r) => !r.optional || config.env === "prod");
    const label = (r: Probed) => `${r.name} ${r.where}`;
    if (fatal.length) throw new Error(`Unreachable: ${fatal.map(label).join(", ")}`);
    const unprobed = mongo && !seeds ? ["mongodb not probed (the driver resolves its URL)"] : [];
    return {
      detail: [...results.map((r) => `${label(r)} ${r.up ? "up" : "down"}`), ...unprobed].join("; "),
      warnings: down.map((r) => `optional service ${label(r)} is down`),
    };
  },
};

/** One line for a failed connect: a TLS certificate problem in plain words, else the driver's message. */
function failureReason(error: unknown): string {
  return describeTlsError(error) ?? String((error as Error | null)?.message ?? error).split("\n")[0]!;
}

/**
 * A warning per setting under `prefix` that switches TLS certificate verification off (load
 * refuses them in prod): the connection is encrypted, but to whoever answers.
 */
function unverifiedTlsWarnings(config: Config, prefix: string): string[] {
  return unverifiedTls(config).filter(({ path }) => path.startsWith(prefix))
    .map(({ path, setting }) =>
      `${path} ${setting}: TLS certificate verification is off: anyone on the path can pose as the ` +
      "server; never in production"
    );
}

const amqpAuth: IplStep<IplContext> = {
  name: "amqp_auth",
  exitCode: EXIT_CODES.amqp_auth,
  async run(ctx) {
    const where = describeAmqp(ctx.config.amqp);
    const user = amqpUser(ctx.config.amqp);
    const sinks = fanOut(ctx.sinks);
    const supervisor = createAmqpSupervisor({
      config: ctx.config.amqp,
      name: `beds ${ctx.role} ${ctx.instance}`,
      initialDelayMs: ctx.config.amqp.reconnect_initial_ms,
      maxDelayMs: ctx.config.amqp.reconnect_max_ms,
      logger: ctx.logger,
      // Everything this connection receives is a request, an admin command or a node's own copy
      // given back, none larger: a larger body is kept only as the start its TOO_LARGE needs.
      maxBodyBytes: ctx.config.limits.max_body_bytes,
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
      throw new Error(describeAmqpLoginFailure(error, ctx.config.amqp));
    }
    ctx.amqp = supervisor;
    return {
      // The user too: a URL without credentials logs in as guest, whatever else the config says.
      detail: `connected to ${where} as "${user}"`,
      warnings: unverifiedTlsWarnings(ctx.config, "amqp."),
      undo: async () => {
        ctx.amqp = undefined;
        await supervisor.stop();
      },
    };
  },
};

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
  // The step fails only when none opens: a set that opened in part says how far, as a warning.
  const sets = adapter.health().detail as Record<string, ConnectionSetHealth>;
  const opened = (set: string) => {
    const { alive, size } = sets[set]!;
    return alive < size ? `${alive} of ${size} open` : `${size}`;
  };
  const partial = Object.entries(sets).filter(([, h]) => h.alive < h.size).map(([set, h]) =>
    `mariadb ${set}: ${h.alive} of ${h.size} connections open, the rest retried in the background`
  );
  return {
    detail: `mariadb ${maria.master.host}:${maria.master.port} × ${opened("master")}` +
      (maria.secondary
        ? `, secondary ${maria.secondary.host}:${maria.secondary.port} × ${opened("secondary")}`
        : ""),
    warnings: partial,
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
      warnings: [
        ...maria.warnings ?? [],
        ...mongo.warnings ?? [],
        ...unverifiedTlsWarnings(ctx.config, "databases."),
      ],
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
    ctx.templates = await loadRoleTemplates(ctx);
    ctx.registry = createRegistryHolder(createRegistry(ctx.templates));
    const admin = servesAdminExchange(ctx)
      ? ` and the admin templates (${ctx.config.admin.templates_dir}, mst)`
      : "";
    return { detail: `${ctx.templates.length} templates from ${ctx.config.templatesDir}${admin}` };
  },
};

const templatesVerify: IplStep<IplContext> = {
  name: "templates_verify",
  exitCode: EXIT_CODES.templates_verify,
  async run(ctx) {
    const problems = await verifyStores(ctx.adapters, ctx.templates ?? []);
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

/** Opens the client on the admin exchange (reports, system log, log store over AMQP). */
const adminLink: IplStep<IplContext> = {
  name: "admin_link",
  exitCode: EXIT_CODES.admin_link,
  run: openAdminLink,
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

/**
 * Steps `beds run` runs before the node is resident. The admin link opens as soon as the admin
 * exchange is declared: a start that fails after it ships its fatal line to the admin role.
 */
export const RUN_STEPS: readonly IplStep<IplContext>[] = [
  reachability,
  amqpAuth,
  topology,
  adminLink,
  dbPools,
  templatesLoad,
  templatesVerify,
  logstore,
  brokerPool,
  http,
  gateway,
];
