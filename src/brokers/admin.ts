/**
 * The admin listener: each node consumes its own exclusive queue on the
 * admin exchange, bound by its instance key and the broadcast key, and
 * answers commands (`status`, `shutdown`, `reload`) to their `reply_to`. With
 * access control on, only admin users (by RabbitMQ-validated `user_id`) are
 * obeyed; anyone else is answered `FORBIDDEN`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  ADMIN_BROADCAST_KEY,
  adminExchangeName,
  adminNodeKey,
  adminQueueName,
  type AmqpConnection,
  HEADERS,
} from "../amqp/mod.ts";
import type { Logger } from "../logging/mod.ts";
import { BedsError } from "../errors.ts";
import type { ReplyTargets } from "./reply_targets.ts";
import { createWarningThrottle } from "../logging/throttle.ts";

/** A command sent to the admin exchange. */
export interface AdminCommand {
  command: string;
}

/** Handles one admin command and returns the reply's `data`. */
export type AdminHandler = (command: AdminCommand) => Promise<unknown> | unknown;

/** Options for {@link startAdminListener}. */
export interface AdminListenerOptions {
  exchange: string;
  queuePrefix: string;
  instance: string;
  handlers: Readonly<Record<string, AdminHandler>>;
  /**
   * Decides on the sender's RabbitMQ-validated `user_id`; a refused command
   * is answered `FORBIDDEN` and not run. @default every sender is accepted
   */
  authorize?: (user: string | undefined) => boolean;
  /** Where replies may go: never into BEDS's own queues. @default anywhere */
  replyTargets?: ReplyTargets;
  logger: Logger;
}

/** Declares the node's admin queue and consumes it on `connection`. */
export async function startAdminListener(
  connection: AmqpConnection,
  options: AdminListenerOptions,
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  const exchange = adminExchangeName(options.exchange);
  const queue = adminQueueName(options.queuePrefix, options.instance);
  await channel.assertExchange(exchange, "topic", { durable: true });
  await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, exchange, adminNodeKey(options.instance));
  await channel.bindQueue(queue, exchange, ADMIN_BROADCAST_KEY);
  // Whoever may publish to the admin exchange may send refused commands as fast as they like.
  const warn = createWarningThrottle({ logger: options.logger });
  await channel.consume(queue, async (msg) => {
    if (!msg) return;
    let reply: unknown;
    const user = msg.properties.userId as string | undefined;
    try {
      // A command is never dead-lettered by BEDS, so a replayed one was put in a dead-letter queue
      // by someone, to be run with the credentials of whoever replays it.
      if (msg.properties.headers?.[HEADERS.replayedFrom] !== undefined) {
        warn("replayed", { user: user ?? null }, "replayed admin command refused");
        throw new BedsError("FORBIDDEN", "An admin command is never replayed from a dead-letter queue");
      }
      if (options.authorize && !options.authorize(user)) {
        warn("refused", { user: user ?? null }, "admin command refused");
        throw new BedsError(
          "FORBIDDEN",
          user === undefined ? "Admin command has no user_id" : `User "${user}" may not send admin commands`,
        );
      }
      const body = JSON.parse(msg.content.toString("utf8")) as AdminCommand;
      // Own keys only: "constructor" or "toString" would be found on Object.prototype and run.
      const handler = typeof body?.command === "string" && Object.hasOwn(options.handlers, body.command)
        ? options.handlers[body.command]
        : undefined;
      if (!handler) throw new Error(`Unknown admin command "${body?.command}"`);
      options.logger.info({ command: body.command, user }, "admin command");
      reply = { ok: true, data: await handler(body), meta: { node: options.instance } };
    } catch (error) {
      reply = {
        ok: false,
        error: {
          code: error instanceof BedsError ? error.code : "BAD_REQUEST",
          message: (error as Error).message,
        },
        meta: { node: options.instance },
      };
    }
    const { replyTo } = msg.properties;
    if (replyTo && options.replyTargets && !options.replyTargets.allows(replyTo)) {
      // Not into BEDS's own queues, whoever asked (see reply_targets.ts).
      options.replyTargets.refuse({ broker: "admin", event: "", user, replyTo });
    } else if (replyTo) {
      try {
        channel.publish("", replyTo, Buffer.from(JSON.stringify(reply)), {
          correlationId: msg.properties.correlationId,
          contentType: "application/json",
        });
      } catch (error) {
        // Any client may send to the admin exchange: a reply it made unsendable (a property too
        // long to send back) must not take the node down; nothing else catches in this callback.
        options.logger.warn({ err: (error as Error).message }, "admin reply not sent");
      }
    }
  }, { noAck: true });
}
