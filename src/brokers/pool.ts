/**
 * The broker pool: for each broker of the node's role, `instances` consumers
 * on the broker's work queue. The pool is attached to a connection; when the
 * connection is lost it is detached and re-attached by the connection
 * supervisor. A consumer whose channel closes while its connection lives is
 * restarted with capped backoff (restart_policy.ts), so a crash loop never
 * spins the CPU; a crash loop is logged as an error and shown in `status()`.
 *
 * @module
 */
import {
  type AmqpConnection,
  answeredBy,
  CLOSE_TIMEOUT_MS,
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
import { type Consumer, startConsumer } from "./consumer.ts";
import type { RetryRoute } from "./safe_copy.ts";
import { type BrokerCounters, type CounterSnapshot, createCounters } from "./counters.ts";
import { inCrashLoop, nextRestart } from "./restart_policy.ts";
import type { ReplyTargets } from "./reply_targets.ts";

/** Options for {@link createBrokerPool}. */
export interface BrokerPoolOptions {
  role: string;
  /** Where replies may go: never into BEDS's own queues (shared with the node's admin listener). */
  replyTargets: ReplyTargets;
  queuePrefix: string;
  brokers: ReadonlyArray<{ name: string; config: BrokerConfig }>;
  node: string;
  maxBodyBytes: number;
  /** Largest reply sent (`[limits] max_reply_bytes`). */
  maxReplyBytes: number;
  deps: DispatchDeps;
  eventIds: EventIds;
  /** Receives one event per delivery. */
  events: EventSink;
  logger: Logger;
  /** Runs before a crashed consumer is restarted (re-declares topology, e.g. a deleted queue). */
  beforeRestart?: (connection: AmqpConnection) => Promise<void>;
  /** How long a consumer the server cancels lets its deliveries finish. @default 10000 */
  drainMs?: number;
  /**
   * Aborts the node's database statements in flight (the adapters'); called once by `stop()` when
   * its drain ends with deliveries still running.
   */
  abortInflight?: () => void;
}

/** Per-broker status. */
export interface BrokerStatus extends CounterSnapshot {
  broker: string;
  queue: string;
  consumers: number;
  inflight: number;
  restarts: number;
  /** True while a consumer of the broker keeps failing soon after each restart (see restart_policy.ts). */
  crashLoop: boolean;
}

/** A pool of consumers. */
export interface BrokerPool {
  /** Starts every consumer on `connection` (after a (re)connect). */
  attach(connection: AmqpConnection): Promise<void>;
  /** Forgets consumers of a lost connection (their deliveries are requeued by RabbitMQ). */
  detach(): void;
  status(): BrokerStatus[];
  /**
   * Stops every consumer, draining in-flight work up to `drainMs`; then aborts the database
   * statements of what still runs, and lets it settle, before the channels close.
   */
  stop(drainMs: number): Promise<void>;
}

interface Group {
  name: string;
  config: BrokerConfig;
  queue: string;
  route: RetryRoute;
  ops: ReadonlySet<Op>;
  slots: Array<Consumer | undefined>;
  /** Per slot: failures in a row (restart_policy.ts) and when its consumer started. */
  streaks: number[];
  startedAt: Array<number | undefined>;
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
      streaks: [],
      startedAt: [],
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

  // The pool stopped, or its connection was replaced, while a consumer started.
  const stale = (conn: AmqpConnection) => stopping || connection !== conn;

  const start = async (group: Group, index: number, conn: AmqpConnection) => {
    if (stale(conn)) return;
    const startedAt = Date.now();
    const consumer: Consumer = await startConsumer({
      connection: conn,
      side: side!,
      queue: group.queue,
      broker: group.name,
      index,
      ops: group.ops,
      adminExchange: group.config.exchange === "admin",
      prefetch: group.config.prefetch,
      maxBodyBytes: options.maxBodyBytes,
      maxReplyBytes: options.maxReplyBytes,
      replyTargets: options.replyTargets,
      node: options.node,
      route: group.route,
      deps: options.deps,
      eventIds: options.eventIds,
      counters: group.counters,
      events: options.events,
      logger,
      drainMs: options.drainMs ?? 10_000,
      redeclare: options.beforeRestart && (() => options.beforeRestart!(conn)),
      onUnexpectedClose: () => {
        if (group.slots[index] === consumer) group.slots[index] = undefined;
        // A lost connection closes its channels just before its own close is handled: decide
        // after that, so a connection loss (the supervisor re-attaches) is not counted as a crash.
        later(0, () => {
          if (stale(conn)) return;
          group.restarts++;
          group.startedAt[index] = undefined;
          const next = nextRestart({ streak: group.streaks[index] ?? 0, ranMs: Date.now() - startedAt });
          group.streaks[index] = next.streak;
          logger[next.crashLoop ? "error" : "warn"](
            {
              broker: group.name,
              index,
              delay: next.delayMs,
              attempt: next.streak,
              crashLoop: next.crashLoop,
            },
            "consumer stopped unexpectedly; restarting",
          );
          later(next.delayMs, () => restart(group, index, conn));
        });
      },
    });
    if (stale(conn)) {
      // stop() has already drained the consumers it knew of: this one must not take deliveries.
      await consumer.stop(0);
      return;
    }
    group.slots[index] = consumer;
    group.startedAt[index] = startedAt;
  };

  const restart = (group: Group, index: number, conn: AmqpConnection) => {
    if (stale(conn)) return;
    (options.beforeRestart?.(conn) ?? Promise.resolve()).then(() => start(group, index, conn)).then(
      () => logger.info({ broker: group.name, index }, "consumer restarted"),
      (error) => {
        const next = nextRestart({ streak: group.streaks[index] ?? 0, ranMs: 0 });
        group.streaks[index] = next.streak;
        logger.error(
          {
            broker: group.name,
            index,
            err: (error as Error).message,
            delay: next.delayMs,
            attempt: next.streak,
          },
          "consumer restart failed",
        );
        later(next.delayMs, () => restart(group, index, conn));
      },
    );
  };

  return {
    async attach(conn) {
      connection = conn;
      side = createSideChannel(conn);
      for (const group of groups) {
        group.slots = [];
        group.streaks = [];
        for (let i = 0; i < group.config.instances; i++) await start(group, i, conn);
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
        crashLoop: Array.from({ length: g.config.instances }, (_, i) => i).some((i) =>
          inCrashLoop({
            streak: g.streaks[i] ?? 0,
            running: g.slots[i] !== undefined,
            runningMs: Date.now() - (g.startedAt[i] ?? Date.now()),
          })
        ),
        ...g.counters.snapshot(),
      })),
    async stop(drainMs: number) {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      const consumers = groups.flatMap((g) => g.slots).filter((c) => c !== undefined);
      // Once for the node, by the first consumer whose drain ends with deliveries still running: the
      // adapters abort every statement in flight, whichever consumer's it is.
      let aborted = false;
      const overdue = options.abortInflight && (() => {
        if (aborted) return;
        aborted = true;
        logger.warn(
          { drainMs, inflight: consumers.reduce((n, c) => n + c.inflight(), 0) },
          "drain timed out; aborting the database statements still running (a write takes its retry path)",
        );
        try {
          options.abortInflight!();
        } catch (error) {
          logger.error({ err: (error as Error).message }, "could not abort the statements in flight");
        }
      });
      await Promise.all(consumers.map((c) => c.stop(drainMs, overdue)));
      // Bounded as the consumers' channels are: a node told to stop while RabbitMQ blocks it must exit.
      if (side && connection) await answeredBy(connection, side.close(), Date.now() + CLOSE_TIMEOUT_MS);
    },
  };
}
