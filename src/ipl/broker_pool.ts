/**
 * The broker pool step: the role's consumers plus the node's admin queue,
 * attached on every (re)connection; and the status the node reports.
 *
 * @module
 */
import { amqpUser } from "../amqp/mod.ts";
import { createBrokerPool, createReplyTargets, startAdminListener } from "../brokers/mod.ts";
import { type AccessPolicy, createReloadableAccessPolicy } from "../dispatch/mod.ts";
import type { Config } from "../config/mod.ts";
import { fanOut } from "../logstore/mod.ts";
import type { NodeSelf } from "../admin/mod.ts";
import type { IplContext } from "./context.ts";
import type { IplStep } from "./runner.ts";
import { EXIT_CODES } from "./exit_codes.ts";
import { declareRole, roleBrokers } from "./roles.ts";
import { reloadTemplates } from "./reload.ts";

/** Starts the broker pool and the admin listener. */
export const brokerPool: IplStep<IplContext> = {
  name: "broker_pool",
  exitCode: EXIT_CODES.broker_pool,
  async run(ctx) {
    const { config } = ctx;
    const registry = ctx.registry!;
    const access = createReloadableAccessPolicy({ config: config.access, nodeUser: amqpUser(config.amqp) });
    ctx.access = access;
    // One for the consumers and the admin listener alike: no reply of this node goes into a BEDS queue.
    const replyTargets = createReplyTargets({
      queuePrefix: config.amqp.queue_prefix,
      roles: config.nodes,
      logger: ctx.logger,
    });
    const pool = createBrokerPool({
      role: ctx.role,
      replyTargets,
      queuePrefix: config.amqp.queue_prefix,
      brokers: roleBrokers(ctx),
      node: ctx.instance,
      maxBodyBytes: config.limits.max_body_bytes,
      maxReplyBytes: config.limits.max_reply_bytes,
      deps: { registry: () => registry.current(), adapters: ctx.adapters, limits: config.limits, access },
      eventIds: ctx.eventIds,
      events: fanOut(ctx.sinks),
      logger: ctx.logger,
      beforeRestart: declareRole(ctx),
      drainMs: config.node.drain_ms,
      abortInflight: () => {
        for (const adapter of ctx.adapters.values()) adapter.abortInflight?.();
      },
    });
    ctx.pool = pool;
    // The admin listener first: its exclusive queue can be refused (RESOURCE_LOCKED while the server
    // still holds a connection of this instance that died), which fails this setup and closes the
    // connection; consumers attached before it would have taken deliveries, run their writes and
    // lost their replies, again on every reconnect attempt.
    await ctx.amqp!.addSetup(async (connection) => {
      await startAdminListener(connection, {
        exchange: config.amqp.exchange,
        queuePrefix: config.amqp.queue_prefix,
        instance: ctx.instance,
        logger: ctx.logger,
        authorize: access.mayAdminister,
        replyTargets,
        handlers: {
          status: () => nodeStatus(ctx),
          reload: () => reloadTemplates(ctx),
          shutdown: () => {
            setTimeout(() => ctx.requestStop?.(), 0);
            return { stopping: true };
          },
        },
      });
      await pool.attach(connection);
    });
    const consumers = pool.status().reduce((n, s) => n + s.consumers, 0);
    const users = Object.keys(config.access.users).length;
    return {
      warnings: missingAdminGrants(config, access),
      detail: `${pool.status().length} brokers, ${consumers} consumers, access control ${
        access.enabled ? `on (${users} users, ${config.access.admin_users.length} admins)` : "off"
      }`,
      // A later step failed: stop taking deliveries before the databases and the connection close
      // under the consumers (whatever they hold is requeued). After a drained shutdown, a no-op.
      undo: () => pool.stop(0),
    };
  },
};

/**
 * What this node sends the admin role that its own AMQP user is not granted (with access control
 * on, every node reads the same `[access]`): each such send is refused FORBIDDEN and kept in a
 * dead-letter queue, and `beds status` and the system log stay empty without a word.
 */
export function missingAdminGrants(config: Config, access: AccessPolicy): string[] {
  if (!access.enabled) return [];
  const sends: Array<[boolean, "create" | "call", string, string]> = [
    [config.admin.report_ms > 0, "create", "nst", "status reports"],
    [config.admin.syslog, "call", "slg", "warn and error lines"],
    [config.logstore.store === "admin", "call", "mst", "log store records"],
  ];
  return sends.filter(([sent, op, template]) => {
    if (!sent) return false;
    try {
      access.check(access.nodeUser, op, template, true);
      return false;
    } catch {
      return true;
    }
  }).map(([, op, template, what]) =>
    `[access]: the nodes' user "${access.nodeUser}" has no grant for ${op}.${template}: its ${what} are ` +
    "refused FORBIDDEN and kept in the dead-letter queue; grant it (README, The admin role)"
  );
}

/** The status a node reports to `beds status` and admin tools. */
export function nodeStatus(ctx: IplContext): NodeSelf {
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
