/**
 * One consumer instance: its own channel with `prefetch`, and per delivery
 * decode → dispatch → decide → (reply | retry | dead-letter) → ack (batched
 * per turn of the event loop, `acks.ts`). Every delivery ends acked (or, if
 * its safe copy could not be stored, requeued), whatever its content, so bad
 * input can never stall or crash the consumer.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpConnection,
  type AmqpMessage,
  answeredBy,
  CLOSE_TIMEOUT_MS,
  type SideChannel,
} from "../amqp/mod.ts";
import type { Op } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { EventIds } from "../protocol/mod.ts";
import type { DispatchDeps } from "../dispatch/mod.ts";
import { decide, type Disposition } from "./retry_policy.ts";
import { encodeReply } from "./reply_size.ts";
import { type RetryRoute, storeSafeCopyUntilStored } from "./safe_copy.ts";
import type { BrokerCounters } from "./counters.ts";
import { createAcks } from "./acks.ts";
import { runDelivery } from "./outcome.ts";
import type { EventSink, RequestEvent } from "../logstore/mod.ts";
import type { ReplyTargets } from "./reply_targets.ts";
import { createWarningThrottle } from "../logging/throttle.ts";

/** Everything a consumer needs. */
export interface ConsumerOptions {
  connection: AmqpConnection;
  side: SideChannel;
  queue: string;
  broker: string;
  /** Index of this instance within its broker, for logs. */
  index: number;
  ops: ReadonlySet<Op>;
  /** The broker is bound on the admin exchange: its templates are granted by name only. */
  adminExchange?: boolean;
  prefetch: number;
  maxBodyBytes: number;
  /** Largest reply sent (`[limits] max_reply_bytes`); a larger one is replaced by a TOO_LARGE error. */
  maxReplyBytes: number;
  /** Where replies may go: never into BEDS's own queues (shared by the node's consumers). */
  replyTargets: ReplyTargets;
  node: string;
  route: RetryRoute;
  deps: DispatchDeps;
  eventIds: EventIds;
  counters: BrokerCounters;
  /** Receives one event per delivery (log store, metrics). */
  events: EventSink;
  logger: Logger;
  /** Called when the channel closes without `stop()` having been called. */
  onUnexpectedClose: () => void;
  /** How long deliveries in flight may finish when the server cancels the consumer. */
  drainMs: number;
  /** Declares the role's queues again (a copy came back unroutable: its queue was deleted). */
  redeclare?: () => Promise<void>;
}

/** A running consumer. */
export interface Consumer {
  /** Deliveries being processed now. */
  inflight(): number;
  /**
   * Stops taking deliveries, waits up to `drainMs` (from the call) for in-flight ones, closes the
   * channel. With deliveries still in flight after `drainMs`, `overdue` is called first (it aborts
   * their database statements), and they get up to {@link ABORT_SETTLE_MS} more to settle. The
   * close waits for RabbitMQ's answer up to `CLOSE_TIMEOUT_MS`, and not while it blocks the connection.
   */
  stop(drainMs: number, overdue?: () => void): Promise<void>;
}

/**
 * How long deliveries whose statements were aborted at shutdown may take to settle: a write fails
 * at once, stores its retry copy (confirmed in a few milliseconds) and is acked.
 */
export const ABORT_SETTLE_MS = 3000;

/** Opens a channel, sets prefetch and starts consuming `queue`. */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { broker, logger, node, route, counters } = options;
  const channel: AmqpChannel = await options.connection.createChannel();
  let stopping = false;
  let inflight = 0;
  let idle: (() => void) | undefined;
  // A close before the consumer is running fails its start instead (its caller retries): the
  // caller has no consumer yet to restart. amqplib emits a close in the same turn as the frames
  // before it, so `consume` may have resolved by then without the code after it having run.
  let running = false;
  let closedEarly = false;
  // Aborted when the channel closes: a copy still being tried gives up (RabbitMQ requeues its delivery).
  const channelClosed = new AbortController();

  channel.on("error", (error) => logger.warn({ broker, err: error.message }, "consumer channel error"));
  channel.on("close", () => {
    channelClosed.abort();
    if (!running) closedEarly = true;
    else if (!stopping) options.onUnexpectedClose();
  });
  // A client can have every request dead-lettered (a body that is no request), and an outage
  // retries every one: a line per delivery would flood the log. Each is in the log store.
  const warnOf = createWarningThrottle({ logger });
  const acks = createAcks(
    channel,
    (error) =>
      logger.warn({ broker, err: (error as Error).message }, "ack not sent; RabbitMQ requeues the delivery"),
  );
  const copyTarget = {
    side: options.side,
    route,
    queue: options.queue,
    nodeUser: options.deps.access?.nodeUser,
  };

  // The ISO time of the current millisecond, formatted once per millisecond: at a few thousand
  // deliveries per second most share one with the delivery before them.
  let isoMs = -1;
  let iso = "";
  const isoNow = () => {
    const ms = Date.now();
    if (ms !== isoMs) {
      isoMs = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };

  const handle = async (msg: AmqpMessage) => {
    const at = isoNow();
    const { event, firstEvent, attempt, request, reply, code, parts, partsSettled, user } = await runDelivery(
      msg,
      performance.now(),
      options,
    );
    const { correlationId } = msg.properties;
    let { replyTo } = msg.properties;
    if (replyTo && !options.replyTargets.allows(replyTo)) {
      // The request ran as its sender's, under its grants; it ends as one without reply_to would.
      options.replyTargets.refuse({ broker, event, user, replyTo });
      replyTo = undefined;
    }
    const disposition: Disposition = decide({
      code,
      op: request?.op,
      attempt,
      retryDelaysMs: route.retryDelaysMs,
      maxAttempts: route.maxAttempts,
      deadlineMs: request?.deadline_ms,
      now: Date.now(),
      hasReplyTo: Boolean(replyTo),
    });
    const errorBody = reply.ok ? undefined : reply.error;
    // Encoded before the outcome is recorded, so that a reply too large to send is recorded as the
    // TOO_LARGE its client gets. The decision above stands: the request ran as it did.
    const out = replyTo && disposition.action !== "retry"
      ? encodeReply(reply, request, event, options)
      : undefined;
    const told = out?.reply.ok === false ? out.reply.error : errorBody;
    counters.record(request?.template, request?.op, told?.code, disposition.action);
    const requestEvent: RequestEvent = {
      kind: "request",
      event,
      parent: firstEvent ?? request?.event?.parent,
      at,
      node,
      broker,
      template: request?.template,
      op: request?.op,
      call: request?.call,
      code: told?.code,
      message: told?.message,
      ms: reply.meta.ms,
      rows: reply.meta.rows,
      attempt,
      action: disposition.action,
      reason: disposition.action === "dead_letter" ? disposition.reason : undefined,
      user,
      admin: options.adminExchange || undefined,
      parts,
    };
    // A fan-out answered as soon as a required part failed may still have parts running. It is
    // recorded with them once they end, and its delivery is acked only then: the prefetch slot it
    // holds keeps failing fan-outs from piling statements onto the connections past prefetch, and a
    // shutdown drains those parts as the delivery they belong to.
    const recorded = partsSettled?.then((all) => options.events.emit({ ...requestEvent, parts: all }));
    if (!recorded) options.events.emit(requestEvent);
    if (disposition.action !== "reply") {
      const copy = {
        msg,
        disposition,
        attempt,
        code,
        message: errorBody?.message,
        event,
        rootEvent: firstEvent,
        user,
      };
      const stored = await storeSafeCopyUntilStored(copy, copyTarget, {
        signal: channelClosed.signal,
        redeclare: options.redeclare,
        onFailure: (reason, retryMs) =>
          logger.error({ broker, event, err: reason, retryMs }, "could not store retry/dead-letter copy"),
        onRedeclareFailure: (reason) =>
          logger.warn({ broker, err: reason }, "could not declare the queues again"),
      });
      if (!stored) return; // the channel closed: RabbitMQ requeues the delivery
      if (disposition.action === "retry") {
        warnOf(
          `retry ${code}`,
          { broker, event, attempt, delayMs: disposition.delayMs, code },
          "request retry scheduled",
        );
        if (recorded) await recorded;
        acks.ack(msg);
        return;
      }
      warnOf(
        disposition.reason,
        { broker, event, attempt, code, reason: disposition.reason },
        "request dead-lettered",
      );
    }
    if (replyTo && out) sendReply(replyTo, correlationId, out.bytes, event);
    if (recorded) await recorded;
    acks.ack(msg);
  };

  // A reply that cannot be sent is logged and the delivery acked all the same: it ran, and left
  // unacked it would hold a prefetch slot for good. amqplib throws before it writes anything, both
  // on a closed channel and on a property too long to send back (a client's bytes that are not
  // UTF-8 arrive as U+FFFD, three bytes each, and can pass AMQP's 255).
  const sendReply = (replyTo: string, correlationId: string | undefined, bytes: Buffer, event: string) => {
    try {
      channel.publish("", replyTo, bytes, { correlationId, contentType: "application/json" });
    } catch (error) {
      logger.warn({ broker, event, err: (error as Error).message }, "reply not sent");
    }
  };

  /** Resolves once no delivery is in flight, or after `ms`. */
  const settled = (ms: number) =>
    inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // Unanswered (RabbitMQ blocks the connection, or the network went silent), the channel is left to
  // the connection's close, which drops the socket: its unacked deliveries go back to their queue.
  const closeChannel = () => answeredBy(options.connection, channel.close(), Date.now() + CLOSE_TIMEOUT_MS);

  // Stops taking deliveries, lets those in flight finish (up to `drainMs`) and settles their acks
  // before the channel closes: a reply or ack sent after it would be lost, and the delivery run again.
  let closing: Promise<void> | undefined;
  const drainAndClose = (drainMs: number, overdue?: () => void) => closing ??= drain(drainMs, overdue);
  const drain = async (drainMs: number, overdue?: () => void) => {
    await settled(drainMs);
    if (inflight > 0 && overdue) {
      // The close would give what still runs back to its queue while its statement ran on, and could
      // commit: run again, a write would be applied twice. Aborted, its statement is rolled back, and
      // the delivery settles as a failure (a write stores its retry copy and is acked).
      overdue();
      await settled(ABORT_SETTLE_MS);
    }
    // Deliveries still unacked now are requeued by RabbitMQ on close.
    acks.flush();
    await closeChannel();
  };

  const onDelivery = (msg: AmqpMessage | null) => {
    if (!msg) {
      // Cancelled by the server (queue deleted, leader moved): finish what runs, then close, so
      // the pool restarts us.
      logger.warn({ broker, queue: options.queue }, "consumer cancelled by the server");
      void drainAndClose(options.drainMs);
      return;
    }
    // Delivered after stop(), before RabbitMQ read the cancel: not run, nor acked. RabbitMQ gives it
    // back to its queue when the channel (or, while it blocks the connection, the connection) closes.
    if (stopping) return;
    inflight++;
    acks.received(msg);
    handle(msg)
      .catch((error) => {
        // Not left unacked (it would hold a prefetch slot for good) nor requeued (it would fail
        // again): rejected, RabbitMQ moves it to the broker's dead-letter queue.
        logger.error(
          { broker, err: (error as Error).message },
          "delivery could not be handled; dead-lettered",
        );
        acks.nack(msg, false);
      })
      .finally(() => {
        if (--inflight === 0) idle?.();
      });
  };

  let consumerTag: string;
  try {
    await channel.prefetch(options.prefetch);
    ({ consumerTag } = await channel.consume(options.queue, onDelivery));
  } catch (error) {
    await closeChannel();
    throw error;
  }
  if (closedEarly) throw new Error(`channel of ${broker} closed while its consumer started`);
  running = true;
  logger.debug({ broker, index: options.index, queue: options.queue }, "consumer started");

  return {
    inflight: () => inflight,
    async stop(drainMs: number, overdue?: () => void) {
      if (stopping) return;
      stopping = true;
      // Not waited for: while RabbitMQ blocks the connection it reads nothing, the cancel included,
      // and the drain's deadline (and the abort of what overruns it) must still come `drainMs` from now.
      void channel.cancel(consumerTag).catch(() => {});
      await drainAndClose(drainMs, overdue);
    },
  };
}
