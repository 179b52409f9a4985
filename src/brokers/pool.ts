/**
 * The broker pool: for each broker of the node's role, `instances` consumers
 * on the broker's work queue. A consumer whose channel closes unexpectedly
 * is restarted with capped backoff, so a crash loop never spins the CPU.
 *
 * @module
 */
import { type AmqpConnection, workQueueName } from "../amqp/mod.ts";
import type { BrokerConfig, Op } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { DispatchDeps } from "../dispatch/mod.ts";
import type { EventIds } from "../protocol/mod.ts";
import { type Consumer, startConsumer } from "./consumer.ts";

/** Options for {@link startBrokerPool}. */
export interface BrokerPoolOptions {
  connection: AmqpConnection;
  role: string;
  queuePrefix: string;
  brokers: ReadonlyArray<{ name: string; config: BrokerConfig }>;
  node: string;
  maxBodyBytes: number;
  deps: DispatchDeps;
  eventIds: EventIds;
  logger: Logger;
}

/** Per-broker status. */
export interface BrokerStatus {
  broker: string;
  queue: string;
  consumers: number;
  inflight: number;
  restarts: number;
}

/** A running pool. */
export interface BrokerPool {
  status(): BrokerStatus[];
  /** Stops every consumer, draining in-flight work up to `drainMs`. */
  stop(drainMs: number): Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Starts every consumer of the role's brokers. */
export async function startBrokerPool(options: BrokerPoolOptions): Promise<BrokerPool> {
  const { logger } = options;
  let stopping = false;
  const groups = options.brokers.map(({ name, config }) => ({
    name,
    config,
    queue: workQueueName(options.queuePrefix, options.role, name),
    slots: [] as Array<Consumer | undefined>,
    restarts: 0,
  }));

  const start = async (group: typeof groups[number], index: number, attempt: number) => {
    const consumer = await startConsumer({
      connection: options.connection,
      queue: group.queue,
      broker: group.name,
      index,
      ops: new Set<Op>(group.config.ops),
      prefetch: group.config.prefetch,
      maxBodyBytes: options.maxBodyBytes,
      node: options.node,
      deps: options.deps,
      eventIds: options.eventIds,
      logger,
      onUnexpectedClose: () => {
        group.slots[index] = undefined;
        if (stopping) return;
        group.restarts++;
        const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** attempt);
        logger.warn({ broker: group.name, index, delay }, "consumer stopped unexpectedly; restarting");
        setTimeout(() => restart(group, index, attempt + 1), delay);
      },
    });
    group.slots[index] = consumer;
  };

  const restart = (group: typeof groups[number], index: number, attempt: number) => {
    if (stopping) return;
    start(group, index, attempt).catch((error) => {
      logger.error({ broker: group.name, index, err: (error as Error).message }, "consumer restart failed");
      const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (attempt + 1));
      setTimeout(() => restart(group, index, attempt + 1), delay);
    });
  };

  for (const group of groups) {
    for (let i = 0; i < group.config.instances; i++) await start(group, i, 0);
    logger.info(
      {
        broker: group.name,
        queue: group.queue,
        instances: group.config.instances,
        prefetch: group.config.prefetch,
      },
      "broker started",
    );
  }

  return {
    status: () =>
      groups.map((g) => ({
        broker: g.name,
        queue: g.queue,
        consumers: g.slots.filter(Boolean).length,
        inflight: g.slots.reduce((n, c) => n + (c?.inflight() ?? 0), 0),
        restarts: g.restarts,
      })),
    async stop(drainMs: number) {
      stopping = true;
      await Promise.all(groups.flatMap((g) => g.slots.map((c) => c?.stop(drainMs))));
    },
  };
}
