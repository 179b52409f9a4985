/**
 * Idempotent topology declaration: the topic exchange, and per broker of a
 * role its durable work queue bound by the broker's routing keys.
 *
 * @module
 */
import type { BrokerConfig } from "../config/mod.ts";
import type { AmqpChannel } from "./connection.ts";
import { workQueueName } from "./names.ts";

/** What to declare for one node role. */
export interface TopologySpec {
  exchange: string;
  queuePrefix: string;
  role: string;
  brokers: ReadonlyArray<{ name: string; config: BrokerConfig }>;
}

/** A declared work queue and its bindings. */
export interface DeclaredQueue {
  broker: string;
  queue: string;
  bindings: readonly string[];
}

/** Declares exchange, queues and bindings; safe to run any number of times. */
export async function declareTopology(channel: AmqpChannel, spec: TopologySpec): Promise<DeclaredQueue[]> {
  await channel.assertExchange(spec.exchange, "topic", { durable: true });
  const declared: DeclaredQueue[] = [];
  for (const { name, config } of spec.brokers) {
    const queue = workQueueName(spec.queuePrefix, spec.role, name);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: { "x-queue-type": config.queue_type },
    });
    for (const key of config.bindings) await channel.bindQueue(queue, spec.exchange, key);
    declared.push({ broker: name, queue, bindings: config.bindings });
  }
  return declared;
}
