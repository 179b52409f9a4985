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
 * A quorum dead-letter queue must not drop its letters: `beds dlq list` and
 * `replay` take them and give them back, and RabbitMQ counts each return
 * against a quorum queue's delivery limit (from RabbitMQ 4.0 a default of 20;
 * the DLQ has no dead-letter target of its own, so a letter past it is
 * deleted). On RabbitMQ 4 the DLQ is therefore declared without a limit.
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
  /**
   * Opens a channel of its own for each quorum DLQ declared without a delivery limit: a queue
   * declared before with other arguments (by an earlier BEDS) makes RabbitMQ refuse the declaration
   * and close the channel, and the node must start all the same. Without it, that refusal fails
   * the declaration, as any other changed argument does.
   */
  openChannel?: () => Promise<AmqpChannel>;
  /** Told of a DLQ kept as it was declared before (see {@link openChannel}). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * The first major version of RabbitMQ that reads an `x-delivery-limit` of -1 as no limit (3.x
 * deletes a letter the first time it is given back).
 */
const UNLIMITED_FROM_MAJOR = 4;

/** The major version of a RabbitMQ server, from its `version` property; undefined for anything else. */
export function rabbitmqMajor(
  serverProperties: { product?: unknown; version?: unknown } | undefined,
): number | undefined {
  if (serverProperties?.product !== "RabbitMQ" || typeof serverProperties.version !== "string") {
    return undefined;
  }
  const major = /^(\d+)\./.exec(serverProperties.version)?.[1];
  return major === undefined ? undefined : Number(major);
}

/**
 * The arguments of a dead-letter queue. A quorum DLQ on RabbitMQ 4 or later gets
 * `x-delivery-limit: -1`, which lifts the default limit of 20 deliveries. Not on 3.x: there no
 * limit applies unless one is set, and -1 would delete a letter the first time it is given back.
 * A policy with a positive `delivery-limit` still applies (RabbitMQ takes it over -1).
 */
export function deadLetterQueueArguments(
  queueType: BrokerConfig["queue_type"],
  rabbitmqMajorVersion: number | undefined,
): Record<string, unknown> {
  return queueType === "quorum" && (rabbitmqMajorVersion ?? 0) >= UNLIMITED_FROM_MAJOR
    ? { "x-queue-type": queueType, "x-delivery-limit": -1 }
    : { "x-queue-type": queueType };
}

/** AMQP's reply code for a declaration whose arguments differ from the existing queue's. */
const PRECONDITION_FAILED = 406;

/** A quorum queue's at-least-once dead-lettering, which RabbitMQ takes only with `reject-publish`. */
const AT_LEAST_ONCE = { "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish" } as const;

/**
 * The arguments of a retry (delay) queue of tier `ttl`, which sends its copies back to `workQueue`
 * when they expire. For a quorum broker it is a quorum queue that dead-letters at least once: a
 * classic queue's dead-lettering is at most once, and after a RabbitMQ restart it expired its
 * copies before the quorum work queue had a leader, which dropped them (writes confirmed to their
 * clients were lost, neither run nor kept). At-least-once needs `reject-publish` overflow.
 */
export function retryQueueArguments(
  queueType: BrokerConfig["queue_type"],
  ttl: number,
  workQueue: string,
): Record<string, unknown> {
  const route = {
    "x-message-ttl": ttl,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": workQueue,
  };
  return queueType === "quorum"
    ? {
      "x-queue-type": "quorum",
      ...route,
      ...AT_LEAST_ONCE,
    }
    : { "x-queue-type": "classic", ...route };
}

/** A queue to declare, and the arguments an earlier BEDS declared it with, which may be kept. */
interface Declaration {
  queue: string;
  args: Record<string, unknown>;
  /** Arguments of the same queue as declared before; undefined when they are `args`. */
  before?: Record<string, unknown>;
  /** What keeping the queue as declared before means, for the warning. */
  keptMeans: string;
}

/**
 * Declares a queue whose arguments changed since an earlier BEDS: on channels of its own, when the
 * spec can open them, so that a queue declared before with the old arguments is kept as it is, with
 * a warning, instead of failing the node's start. A queue that differs in anything else fails it.
 */
async function declareOrKeep(channel: AmqpChannel, spec: TopologySpec, d: Declaration): Promise<void> {
  const { openChannel } = spec;
  if (d.before === undefined || !openChannel) {
    await channel.assertQueue(d.queue, { durable: true, arguments: d.args });
    return;
  }
  // A refused declaration closes its channel: each attempt has one of its own.
  const declare = async (queueArgs: Record<string, unknown>) => {
    const own = await openChannel();
    own.on("error", () => {});
    try {
      await own.assertQueue(d.queue, { durable: true, arguments: queueArgs });
    } finally {
      await own.close().catch(() => {});
    }
  };
  try {
    await declare(d.args);
  } catch (error) {
    if ((error as { code?: unknown }).code !== PRECONDITION_FAILED) throw error;
    await declare(d.before).catch(() => Promise.reject(error));
    spec.onWarning?.(`queue kept as declared before: ${d.keptMeans}`, {
      queue: d.queue,
      err: (error as Error).message,
    });
  }
}

/** A dead-letter queue: see {@link deadLetterQueueArguments}. */
function deadLetterQueue(
  channel: AmqpChannel,
  queue: string,
  queueType: BrokerConfig["queue_type"],
): Declaration {
  const args = deadLetterQueueArguments(queueType, rabbitmqMajor(channel.connection?.serverProperties));
  return {
    queue,
    args,
    before: "x-delivery-limit" in args ? deadLetterQueueArguments(queueType, undefined) : undefined,
    keptMeans: "RabbitMQ's delivery limit applies to it, and letters given back past it (each " +
      '`beds dlq list` gives back every letter) are deleted; set a policy with {"delivery-limit": -1} ' +
      "on it, or move its letters and delete it",
  };
}

/** A retry queue: see {@link retryQueueArguments}. */
function retryQueue(
  queue: string,
  queueType: BrokerConfig["queue_type"],
  ttl: number,
  workQueue: string,
): Declaration {
  return {
    queue,
    args: retryQueueArguments(queueType, ttl, workQueue),
    before: queueType === "quorum" ? retryQueueArguments("classic", ttl, workQueue) : undefined,
    keptMeans: "a classic delay queue, whose copies RabbitMQ may drop when it restarts (a write " +
      "waiting for its retry is then lost); delete it once it is empty, and restart the node",
  };
}

/**
 * The arguments of a work queue, which dead-letters into `dlq` the requests RabbitMQ gives up on (a
 * quorum queue's delivery limit). For a quorum broker at least once, as its delay queues: at most
 * once, a letter RabbitMQ could not place in the DLQ (the DLQ without a leader while RabbitMQ
 * restarts, or deleted) was dropped. With no length limit on the queue, `reject-publish` (which
 * at-least-once requires) refuses no publish.
 */
export function workQueueArguments(
  config: Pick<BrokerConfig, "queue_type" | "delivery_limit">,
  dlq: string,
  strategy: "at-least-once" | "at-most-once" = "at-least-once",
): Record<string, unknown> {
  const route = {
    "x-queue-type": config.queue_type,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": dlq,
  };
  if (config.queue_type !== "quorum") return route;
  return {
    ...route,
    "x-delivery-limit": config.delivery_limit,
    ...(strategy === "at-least-once" ? AT_LEAST_ONCE : {}),
  };
}

/** A work queue: see {@link workQueueArguments}. */
function workQueue(queue: string, config: BrokerConfig, dlq: string): Declaration {
  return {
    queue,
    args: workQueueArguments(config, dlq),
    before: config.queue_type === "quorum" ? workQueueArguments(config, dlq, "at-most-once") : undefined,
    keptMeans: "a work queue dead-lettering at most once: a request RabbitMQ gives up on (its delivery " +
      "limit) is dropped if the DLQ cannot take it at that moment; stop its publishers, let the nodes " +
      "empty it, delete it, and restart the node",
  };
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
    await declareOrKeep(channel, spec, deadLetterQueue(channel, dlq, config.queue_type));
    await declareOrKeep(channel, spec, workQueue(queue, config, dlq));
    const retryQueues = config.retry_delays_ms.map((_, tier) => retryQueueName(queue, tier));
    for (const [tier, ttl] of config.retry_delays_ms.entries()) {
      await declareOrKeep(channel, spec, retryQueue(retryQueues[tier]!, config.queue_type, ttl, queue));
    }
    const exchange = config.exchange === "admin" ? adminExchangeName(spec.exchange) : spec.exchange;
    for (const key of config.bindings) await channel.bindQueue(queue, exchange, key);
    declared.push({ broker: name, queue, bindings: config.bindings, retryQueues, deadLetterQueue: dlq });
  }
  return declared;
}
