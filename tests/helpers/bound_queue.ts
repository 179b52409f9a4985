/**
 * An exchange of a test's own with one queue bound for every key: what a
 * client publishes can be counted and read there, with no node involved.
 *
 * @module
 */
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { type AmqpConfig, loadConfig } from "../../src/config/mod.ts";
import { AMQP_URL, ROOT, uniqueId } from "./services.ts";

/** The queue, and the test config's AMQP settings on its exchange. */
export interface BoundQueue {
  amqpConfig: AmqpConfig;
  count(): Promise<number>;
  get(): Promise<amqp.GetMessage | false>;
  /** Answers as a node would, with `content` as the body. */
  reply(replyTo: string, correlationId: string, content: string): boolean;
  cleanup(): Promise<void>;
}

/** Declares the exchange and its queue (`label` names both). */
export async function boundQueue(label = "send"): Promise<BoundQueue> {
  const id = uniqueId();
  const exchange = `t.${label}.${id}`;
  const queue = `t.${label}.${id}.all`;
  const admin = await amqp.connect(AMQP_URL, { noDelay: true });
  const channel = await admin.createChannel();
  await channel.assertExchange(exchange, "topic", { durable: false });
  await channel.assertQueue(queue, { durable: false });
  await channel.bindQueue(queue, exchange, "#");
  const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test" } });
  return {
    amqpConfig: { ...config.amqp, user: "guest", pass: "guest", exchange },
    count: async () => (await channel.checkQueue(queue)).messageCount,
    get: () => channel.get(queue, { noAck: true }),
    reply: (replyTo, correlationId, content) =>
      channel.publish("", replyTo, Buffer.from(content), { correlationId }),
    async cleanup() {
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await admin.close();
    },
  };
}
