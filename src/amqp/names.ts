/**
 * Pure topology names. Every exchange and queue name BEDS uses is computed
 * here, so operators and tests can derive them from config alone.
 *
 * @module
 */

/** The work queue of `broker` for node role `role`, shared by all its nodes. */
export function workQueueName(prefix: string, role: string, broker: string): string {
  return `${prefix}${role}.${broker}`;
}

/** The delay queue of retry tier `tier` (0-based) of a work queue. */
export function retryQueueName(workQueue: string, tier: number): string {
  return `${workQueue}.retry.${tier + 1}`;
}

/** The dead-letter queue of a work queue. */
export function deadLetterQueueName(workQueue: string): string {
  return `${workQueue}.dlq`;
}

/**
 * Most delay tiers a broker may have (`retry_delays_ms` holds at most 10 delays). {@link
 * brokerQueueNames} names them all, whatever tiers a config gives: a node of another config version,
 * or one before a tier was removed, may have declared more.
 */
export const MAX_RETRY_TIERS = 10;

/** Every queue of one work queue: itself, its delay queues (all {@link MAX_RETRY_TIERS}) and its dead-letter queue. */
export function brokerQueueNames(workQueue: string): string[] {
  const delays = Array.from({ length: MAX_RETRY_TIERS }, (_, tier) => retryQueueName(workQueue, tier));
  return [workQueue, ...delays, deadLetterQueueName(workQueue)];
}

/** The admin exchange: commands to one node or to every node. */
export function adminExchangeName(exchange: string): string {
  return `${exchange}.admin`;
}

/** The private admin queue of one node instance. */
export function adminQueueName(prefix: string, instance: string): string {
  return `${adminQueuePrefix(prefix)}${instance}`;
}

/** What the admin queue of every node instance starts with. */
export function adminQueuePrefix(prefix: string): string {
  return `${prefix}admin.`;
}

/**
 * What a node instance may be called: words of letters, digits, `_` and `-`, joined by dots (a host
 * name). Its admin queue is bound by `node.<instance>` on a topic exchange, where `*` and `#` are
 * wildcards: a node called `#` would take every other node's commands, a shutdown included.
 */
export const INSTANCE_NAME = /^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63}){0,7}$/;

/** Why `name` cannot name a node instance, or undefined. */
export function instanceNameProblem(name: string): string | undefined {
  return INSTANCE_NAME.test(name)
    ? undefined
    : `instance "${name}" is not a name of letters, digits, '_' or '-' (dot-separated words, as a host name)`;
}

/** Admin routing key reaching one node instance. */
export function adminNodeKey(instance: string): string {
  return `node.${instance}`;
}

/** Admin routing key reaching every node. */
export const ADMIN_BROADCAST_KEY = "all";

/** RabbitMQ's direct reply-to pseudo-queue. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/** Headers BEDS sets on retried and dead-lettered messages. */
export const HEADERS = {
  /** Attempts made so far (1 = the first delivery). */
  attempt: "x-beds-attempt",
  /** Routing key the request was first published with. */
  routingKey: "x-beds-routing-key",
  /** Wire error code of the last failure. */
  errorCode: "x-beds-error-code",
  /** Message of the last failure. */
  errorMessage: "x-beds-error-message",
  /** Work queue the message came from. */
  queue: "x-beds-queue",
  /** When it was dead-lettered (ISO time). */
  deadAt: "x-beds-dead-at",
  /** Event id of the request. */
  event: "x-beds-event",
  /** The original requester, on copies the node republished with its own `user_id`. */
  user: "x-beds-user",
  /** On a replayed dead letter: the letter's id. */
  replayedFrom: "x-beds-replayed-from",
  /**
   * On a dead letter: RabbitMQ had delivered the request before (a node lost its connection, or
   * stopped, before it acked it), so it may have run then; a write that did is kept all the same
   * when it fails now (a CONFLICT with its own first run).
   */
  redelivered: "x-beds-redelivered",
  /**
   * On a copy of a request whose body was cut short as it arrived (past the node's
   * `max_body_bytes`): the size it was published with. The copy keeps only the body's start.
   */
  bodySize: "x-beds-body-size",
} as const;
