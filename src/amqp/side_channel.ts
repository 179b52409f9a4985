/**
 * A confirm channel for copies BEDS must not lose (retries, dead letters):
 * `publish` resolves only once RabbitMQ has taken responsibility for the
 * message, so the original delivery is acked only after that. Copies are
 * mandatory: RabbitMQ confirms a message no queue took (say, a delay or
 * dead-letter queue deleted by hand) as readily as a stored one, and only
 * its return, which comes before that confirm, tells them apart.
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
  // Unconfirmed publishes by queue: a return names only its routing key (the queue), so it fails
  // every copy to that queue still waiting for its confirm. One routed just before the queue went
  // may be failed with them: its delivery is requeued and copied again, never lost.
  const waiting = new Map<string, Set<() => void>>();
  const get = () => {
    channel ??= connection.createConfirmChannel().then((ch) => {
      ch.on("return", (msg: { fields: { routingKey: string } }) => {
        for (const returned of waiting.get(msg.fields.routingKey) ?? []) returned();
      });
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
        let returned = false;
        const onReturn = () => returned = true;
        const mine = waiting.get(queue) ?? waiting.set(queue, new Set()).get(queue)!;
        mine.add(onReturn);
        const done = () => {
          mine.delete(onReturn);
          if (!mine.size) waiting.delete(queue);
        };
        try {
          ch.publish(
            "",
            queue,
            content,
            { ...options, persistent: true, mandatory: true },
            (error: unknown) => {
              done();
              if (error) {
                reject(error instanceof Error ? error : new Error("Message was nacked by the broker"));
              } else if (returned) {
                reject(new Error(`No queue "${queue}" took the message (returned unroutable)`));
              } else resolve();
            },
          );
        } catch (error) {
          // Refused before anything was written (a closing channel, properties that do not encode).
          done();
          reject(error);
        }
      });
    },
    async close() {
      const ch = channel;
      channel = undefined;
      await ch?.then((c) => c.close()).catch(() => {});
    },
  };
}
