/**
 * The brokers of the node's role and their topology, used at start-up,
 * after every reconnect and before a crashed consumer restarts.
 *
 * @module
 */
import { type AmqpConnection, declareTopology } from "../amqp/mod.ts";
import type { IplContext } from "./context.ts";

/** The role's brokers with their settings. */
export function roleBrokers(ctx: IplContext) {
  const role = ctx.config.nodes[ctx.role];
  if (!role) throw new Error(`Node "${ctx.role}" is not defined in [nodes]`);
  return role.brokers.map((name) => ({ name, config: ctx.config.brokers[name]! }));
}

/** Declares the role's topology on a connection (idempotent). */
export function declareRole(ctx: IplContext) {
  return async (connection: AmqpConnection) => {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    try {
      ctx.declared = await declareTopology(channel, {
        exchange: ctx.config.amqp.exchange,
        queuePrefix: ctx.config.amqp.queue_prefix,
        role: ctx.role,
        brokers: roleBrokers(ctx),
        openChannel: () => connection.createChannel(),
        onWarning: (message, details) => ctx.logger.warn(details, message),
      });
    } finally {
      await channel.close().catch(() => {});
    }
  };
}
