/**
 * The broker pool: for each broker of the node's role, `instances` consumers
 * on the broker's work queue. The pool is attached to a connection; when the
 * connection is lost it is detached and re-attached by the connection
 * supervisor. A consumer whose channel closes while its connection lives is
 * restarted with capped backoff, so a crash loop never spins the CPU.
 *
 * @module
 */
import {
  type AmqpConnection,
  createSideChannel,
  deadLetterQueueName,
  retryQueueName,
  type SideChannel,
  workQueueName,
} from "../amqp/mod.ts";
import type { BrokerConfig, Op } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { DispatchDeps } from "../dispatch/mod.ts";
import type { EventIds } from "../protocol/mod.ts";
import type { EventSink } from "../logstore/mod.ts";
import { type Consumer, type RetryRoute, startConsumer } from "./consumer.ts";
import { type BrokerCounters, type CounterSnapshot, createCounters } from "./counters.ts";

/** Options for {@link createBrokerPool}. */
export interface BrokerPoolOptions {
  role: string;
  queuePrefix: string;
  brokers: ReadonlyArray<{ name: string; config: BrokerConfig }>;
  node: string;
  maxBodyBytes: number;
  deps: DispatchDeps;
  eventIds: EventIds;
  /** Receives one event per delivery. */
  events: EventSink;
  logger: Logger;
  /** Runs before a crashed consumer is restarted (re-declares topology, e.g. a deleted queue). */
  beforeRestart?: (connection: AmqpConnection) => Promise<void>;
}

/** Per-broker status. */
export interface BrokerStatus extends CounterSnapshot {
  broker: string;
  queue: string;
  consumers: number;
  inflight: number;
  restarts: number;
}

/** A pool of consumers. */
export interface BrokerPool {
  /** Starts every consumer on `connection` (after a (re)connect). */
  attach(connection: AmqpConnection): Promise<void>;
  /** Forgets consumers of a lost connection (their deliveries are requeued by RabbitMQ). */
  detach(): void;
  status(): BrokerStatus[];
  /** Stops every consumer, draining in-flight work up to `drainMs`. */
  stop(drainMs: number): Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;
/** A consumer that ran this long before failing starts its backoff afresh. */
const STABLE_MS = 60_000;

interface Group {
  name: string;
  config: BrokerConfig;
  queue: string;
  route: RetryRoute;
  ops: ReadonlySet<Op>;
  slots: Array<Consumer | undefined>;
  restarts: number;
  counters: BrokerCounters;
}

/** Creates a pool; nothing consumes until `attach()`. */
export function createBrokerPool(options: BrokerPoolOptions): BrokerPool {
  const { logger } = options;
  let stopping = false;
  let connection: AmqpConnection | undefined;
  let side: SideChannel | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const groups: Group[] = options.brokers.map(({ name, config }) => {
    const queue = workQueueName(options.queuePrefix, options.role, name);
    return {
      name,
      config,
      queue,
      route: {
        retryQueues: config.retry_delays_ms.map((_, tier) => retryQueueName(queue, tier)),
        retryDelaysMs: config.retry_delays_ms,
        maxAttempts: config.max_attempts,
        deadLetterQueue: deadLetterQueueName(queue),
      },
      ops: new Set<Op>(config.ops),
      slots: [],
      restarts: 0,
      counters: createCounters(),
    };
  });

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const start = async (group: Group, index: number, attempt: number, conn: AmqpConnection) => {
    const startedAt = Date.now();
    const consumer = await startConsumer({
      connection: conn,
      side: side!,
      queue: group.queue,
      broker: group.name,
      index,
      ops: group.ops,
      prefetch: group.config.prefetch,
      maxBodyBytes: options.maxBodyBytes,
      node: options.node,
      route: group.route,
      deps: options.deps,
      eventIds: options.eventIds,
      counters: group.counters,
      events: options.events,
      logger,
      onUnexpectedClose: () => {
        if (group.slots[index] === consumer) group.slots[index] = undefined;
        if (stopping || connection !== conn) return; // connection loss: the supervisor re-attaches
        group.restarts++;
        const next = Date.now() - startedAt > STABLE_MS ? 0 : attempt;
        const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** next);
        const level = next >= 5 ? "error" : "warn";
        logger[level](
          { broker: group.name, index, delay, attempt: next + 1 },
          "consumer stopped unexpectedly; restarting",
        );
        later(delay, () => restart(group, index, next + 1, conn));
      },
    });
    group.slots[index] = consumer;
  };

  const restart = (group: Group, index: number, attempt: number, conn: AmqpConnection) => {
    if (stopping || connection !== conn) return;
    (options.beforeRestart?.(conn) ?? Promise.resolve()).then(() => start(group, index, attempt, conn)).then(
      () => logger.info({ broker: group.name, index }, "consumer restarted"),
      (error) => {
        logger.error({ broker: group.name, index, err: (error as Error).message }, "consumer restart failed");
        later(
          Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (attempt + 1)),
          () => restart(group, index, attempt + 1, conn),
        );
      },
    );
  };

  return {
    async attach(conn) {
      connection = conn;
      side = createSideChannel(conn);
      for (const group of groups) {
        group.slots = [];
        for (let i = 0; i < group.config.instances; i++) await start(group, i, 0, conn);
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
    },
    detach() {
      connection = undefined;
      side = undefined;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const group of groups) group.slots = [];
    },
    status: () =>
      groups.map((g) => ({
        broker: g.name,
        queue: g.queue,
        consumers: g.slots.filter(Boolean).length,
        inflight: g.slots.reduce((n, c) => n + (c?.inflight() ?? 0), 0),
        restarts: g.restarts,
        ...g.counters.snapshot(),
      })),
    async stop(drainMs: number) {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(groups.flatMap((g) => g.slots.map((c) => c?.stop(drainMs))));
      await side?.close();
    },
  };
}
