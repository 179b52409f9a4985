/**
 * Pure topology names. Every queue name BEDS uses is computed here.
 *
 * @module
 */

/** The work queue of `broker` for node role `role`, shared by all its nodes. */
export function workQueueName(prefix: string, role: string, broker: string): string {
  return `${prefix}${role}.${broker}`;
}

/** RabbitMQ's direct reply-to pseudo-queue. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";
