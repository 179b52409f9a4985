/**
 * One consumer instance: its own channel with `prefetch`, and per delivery
 * decode → dispatch → reply → ack. Every delivery is answered (when it has a
 * `reply_to`) and acked, whatever its content, so bad input can never stall
 * or crash the consumer.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { AmqpChannel, AmqpConnection, AmqpMessage } from "../amqp/mod.ts";
import type { Op } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import { decodeRequest, errorReply, type EventIds, okReply, type Reply } from "../protocol/mod.ts";
import { dispatch, type DispatchDeps } from "../dispatch/mod.ts";
import { BedsError } from "../errors.ts";

/** Everything a consumer needs. */
export interface ConsumerOptions {
  connection: AmqpConnection;
  queue: string;
  broker: string;
  /** Index of this instance within its broker, for logs. */
  index: number;
  ops: ReadonlySet<Op>;
  prefetch: number;
  maxBodyBytes: number;
  node: string;
  deps: DispatchDeps;
  eventIds: EventIds;
  logger: Logger;
  /** Called when the channel closes without `stop()` having been called. */
  onUnexpectedClose: (error?: unknown) => void;
}

/** A running consumer. */
export interface Consumer {
  /** Deliveries being processed now. */
  inflight(): number;
  /** Stops taking deliveries, waits up to `drainMs` for in-flight ones, closes the channel. */
  stop(drainMs: number): Promise<void>;
}

/** Opens a channel, sets prefetch and starts consuming `queue`. */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { broker, logger, node, eventIds } = options;
  const channel: AmqpChannel = await options.connection.createChannel();
  let stopping = false;
  let inflight = 0;
  let idle: (() => void) | undefined;

  channel.on("error", (error) => logger.warn({ broker, err: error.message }, "consumer channel error"));
  channel.on("close", () => {
    if (!stopping) options.onUnexpectedClose();
  });
  await channel.prefetch(options.prefetch);

  const handle = async (msg: AmqpMessage) => {
    const started = performance.now();
    let event = "";
    let reply: Reply;
    try {
      const request = decodeRequest(msg.content, options.maxBodyBytes);
      event = eventIds.next(request.event?.parent);
      const result = await dispatch(request, options.ops, options.deps);
      reply = okReply(result.data, meta(event, started, result.rows));
    } catch (error) {
      if (!event) event = eventIds.next();
      reply = errorReply(error, meta(event, started, 0));
      if (!(error instanceof BedsError) || error.code === "INTERNAL" || error.code === "DB_ERROR") {
        logger.error({ broker, event, err: error }, "request failed");
      }
    }
    const { replyTo, correlationId } = msg.properties;
    if (replyTo) {
      channel.publish("", replyTo, Buffer.from(JSON.stringify(reply)), {
        correlationId,
        contentType: "application/json",
      });
    }
    channel.ack(msg);
  };

  const meta = (event: string, started: number, rows: number) => ({
    event,
    node,
    broker,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    rows,
  });

  const { consumerTag } = await channel.consume(options.queue, (msg) => {
    if (!msg) return; // consumer cancelled by the server; the close handler recovers
    inflight++;
    handle(msg)
      .catch((error) => logger.error({ broker, err: error }, "reply or ack failed"))
      .finally(() => {
        if (--inflight === 0) idle?.();
      });
  });
  logger.debug({ broker, index: options.index, queue: options.queue }, "consumer started");

  return {
    inflight: () => inflight,
    async stop(drainMs: number) {
      if (stopping) return;
      stopping = true;
      await channel.cancel(consumerTag).catch(() => {});
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      // Unacked deliveries left after the drain are requeued by RabbitMQ on close.
      await channel.close().catch(() => {});
    },
  };
}
