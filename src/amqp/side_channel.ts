/**
 * A confirm channel for copies BEDS must not lose (retries, dead letters):
 * `publish` resolves only once RabbitMQ has taken responsibility for the
 * message, so the original delivery is acked only after that.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import type { AmqpConnection } from "./connection.ts";
import type { ConfirmChannel } from "amqplib";
import type { PublishOptions } from "./connection.ts";

/** Publishes to a queue (default exchange) with publisher confirms. */
export interface SideChannel {
  publish(queue: string, content: Buffer, options: PublishOptions): Promise<void>;
  close(): Promise<void>;
}

/** Opens the confirm channel lazily and re-opens it after a channel error. */
export function createSideChannel(connection: AmqpConnection): SideChannel {
  let channel: Promise<ConfirmChannel> | undefined;
  const get = () => {
    channel ??= connection.createConfirmChannel().then((ch) => {
      ch.on("error", () => {});
      ch.on("close", () => {
        channel = undefined;
      });
      return ch;
    }, (error) => {
      channel = undefined;
      throw error;
    });
    return channel;
  };
  return {
    async publish(queue, content, options) {
      const ch = await get();
      await new Promise<void>((resolve, reject) => {
        ch.publish("", queue, content, { ...options, persistent: true }, (error: unknown) => {
          if (error) reject(error instanceof Error ? error : new Error("Message was nacked by the broker"));
          else resolve();
        });
      });
    },
    async close() {
      const ch = channel;
      channel = undefined;
      await ch?.then((c) => c.close()).catch(() => {});
    },
  };
}
