/**
 * Where a node never sends a reply: BEDS's own queues. A reply is published to the default exchange
 * with the request's `reply_to` as its routing key, with the node's permissions, so a client naming
 * one of them there would have the node write where the client itself may not: into a work queue
 * (the reply is consumed as a request, fails BAD_REQUEST and is kept as poison) or straight into a
 * delay or dead-letter queue (a permanent letter, as large as the reply). The queues are those of
 * every role of the config (the nodes of all roles share the vhost) and every node's admin queue.
 * They are computed once: a reload applies no change to `[nodes]`, `[brokers]` or `[amqp]`.
 *
 * @module
 */
import { adminQueuePrefix, brokerQueueNames, workQueueName } from "../amqp/mod.ts";
import type { Logger } from "../logging/mod.ts";
import { createWarningThrottle } from "../logging/throttle.ts";

/** Options for {@link createReplyTargets}. */
export interface ReplyTargetOptions {
  queuePrefix: string;
  /** Every role of the config with its brokers (`[nodes]`), not only the node's own. */
  roles: Readonly<Record<string, { readonly brokers: readonly string[] }>>;
  logger: Logger;
  /** Least time between two warnings about refused replies; those between are counted in the next. @default 10000 */
  warnEveryMs?: number;
  /** The clock the warnings are spaced with. @default Date.now */
  now?: () => number;
}

/** A reply not sent because its `reply_to` names a BEDS queue. */
export interface RefusedReply {
  broker: string;
  event: string;
  user: string | undefined;
  replyTo: string;
}

/** Decides whether a reply may go to a `reply_to`. */
export interface ReplyTargets {
  /** False when `replyTo` names one of BEDS's own queues (a set lookup and a prefix check). */
  allows(replyTo: string): boolean;
  /** Notes a reply refused; logs a warning at most once per `warnEveryMs`, with the count since the last. */
  refuse(reply: RefusedReply): void;
}

/** Computes the queues no reply may go to, from the whole config. */
export function createReplyTargets(options: ReplyTargetOptions): ReplyTargets {
  const { queuePrefix, logger } = options;
  const own = new Set<string>();
  for (const [role, { brokers }] of Object.entries(options.roles)) {
    for (const broker of brokers) {
      for (const queue of brokerQueueNames(workQueueName(queuePrefix, role, broker))) own.add(queue);
    }
  }
  // Admin queues are named after instances, which no config lists.
  const admin = adminQueuePrefix(queuePrefix);
  const warn = createWarningThrottle({ logger, everyMs: options.warnEveryMs, now: options.now });
  return {
    allows: (replyTo) => !own.has(replyTo) && !replyTo.startsWith(admin),
    refuse({ broker, event, user, replyTo }) {
      warn(
        "reply_to",
        { broker, event, user: user ?? null, replyTo },
        "reply not sent: reply_to names a BEDS queue",
        "refused",
      );
    },
  };
}
