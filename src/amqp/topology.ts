/**
 * Idempotent topology declaration: the topic exchange; per broker of a role
 * its durable work queue bound by the broker's routing keys, one delay queue
 * per retry tier (TTL, then dead-lettered back to the work queue) and a
 * dead-letter queue; and the admin exchange (admin commands, and the brokers
 * that bind there: `exchange = "admin"`).
 *
 * Queue arguments cannot change once a queue exists: changing a broker's
 * queue type or retry tiers needs its queues deleted (or a policy).
 *
 * @module
 */
import type { BrokerConfig } from "../config/mod.ts";
import type { AmqpChannel } from "./connection.ts";
import { adminExchangeName, deadLetterQueueName, retryQueueName, workQueueName } from "./names.ts";

/** What to declare for one node role. */
export interface TopologySpec {
  exchange: string;
  queuePrefix: string;
  role: string;
  brokers: ReadonlyArray<{ name: string; config: BrokerConfig }>;
}

/** A declared work queue with its bindings, retry queues and DLQ. */
export interface DeclaredQueue {
  broker: string;
  queue: string;
  bindings: readonly string[];
  retryQueues: readonly string[];
  deadLetterQueue: string;
}

/** Declares exchanges, queues and bindings; safe to run any number of times. */
export async function declareTopology(channel: AmqpChannel, spec: TopologySpec): Promise<DeclaredQueue[]> {
  await channel.assertExchange(spec.exchange, "topic", { durable: true });
  await channel.assertExchange(adminExchangeName(spec.exchange), "topic", { durable: true });
  const declared: DeclaredQueue[] = [];
  for (const { name, config } of spec.brokers) {
    const queue = workQueueName(spec.queuePrefix, spec.role, name);
    const dlq = deadLetterQueueName(queue);
    await channel.assertQueue(dlq, { durable: true, arguments: { "x-queue-type": config.queue_type } });
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        "x-queue-type": config.queue_type,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": dlq,
        ...(config.queue_type === "quorum" ? { "x-delivery-limit": config.delivery_limit } : {}),
      },
    });
    const retryQueues = config.retry_delays_ms.map((_, tier) => retryQueueName(queue, tier));
    for (const [tier, ttl] of config.retry_delays_ms.entries()) {
      await channel.assertQueue(retryQueues[tier]!, {
        durable: true,
        arguments: {
          "x-queue-type": "classic",
          "x-message-ttl": ttl,
          "x-dead-letter-exchange": "",
          "x-dead-letter-routing-key": queue,
        },
      });
    }
    const exchange = config.exchange === "admin" ? adminExchangeName(spec.exchange) : spec.exchange;
    for (const key of config.bindings) await channel.bindQueue(queue, exchange, key);
    declared.push({ broker: name, queue, bindings: config.bindings, retryQueues, deadLetterQueue: dlq });
  }
  return declared;
}
