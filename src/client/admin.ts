/**
 * Sends admin commands over AMQP: to one node (its instance key) or to every
 * node (the broadcast key), collecting the replies.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  ADMIN_BROADCAST_KEY,
  adminExchangeName,
  adminNodeKey,
  amqpUser,
  connectAmqp,
  DIRECT_REPLY_TO,
} from "../amqp/mod.ts";
import type { AmqpConfig } from "../config/mod.ts";
import { BedsClientError } from "./types.ts";

/** Options for {@link sendAdminCommand}. */
export interface AdminRequest {
  amqp: AmqpConfig;
  command: string;
  /** Node instance to reach; every node when undefined. */
  node?: string;
  /** How long to collect replies (broadcast) or wait for the one reply. @default 2000 */
  waitMs?: number;
  /**
   * Broadcast: the nodes expected to answer. Once each has, the wait ends; the rest of `waitMs`
   * would only wait for nodes nobody knows of. @default none: the wait is all of `waitMs`
   */
  awaiting?: ReadonlySet<string>;
  /** `user_id` of the command (nodes with access control obey admin users only). @default the AMQP user */
  userId?: string;
}

/** One node's answer. */
export interface AdminReply {
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string };
  meta: { node: string };
}

/** Whether every node of `awaiting` is among the repliers (never, with no node awaited). */
function allAnswered(awaiting: ReadonlySet<string> | undefined, replies: readonly AdminReply[]): boolean {
  if (!awaiting?.size) return false;
  const answered = new Set(replies.map((r) => r.meta?.node));
  return [...awaiting].every((node) => answered.has(node));
}

/**
 * Sends the command and returns the replies received in time.
 * @throws {BedsClientError} `UNROUTABLE` when no node listens on the key.
 */
export async function sendAdminCommand(request: AdminRequest): Promise<AdminReply[]> {
  const connection = await connectAmqp(request.amqp, { name: "beds admin" });
  // Without these listeners amqplib throws a channel's or connection's error out of its event
  // handler, which ends the process: a missing admin exchange must be an answer instead.
  connection.on("error", () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const channel = await connection.createChannel();
    const exchange = adminExchangeName(request.amqp.exchange);
    const replies: AdminReply[] = [];
    const waitMs = request.waitMs ?? 2000;
    const correlationId = crypto.randomUUID();
    let failure: BedsClientError | undefined;
    let wake = () => {};
    const done = new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, waitMs);
    });
    const noNode = request.node === undefined
      ? "No node is listening"
      : `No node "${request.node}" is listening`;
    channel.on("error", (error: Error) => {
      failure = /\b404\b|NOT_FOUND/.test(error.message) && error.message.includes(exchange)
        ? new BedsClientError(
          "UNROUTABLE",
          `${noNode}: no exchange "${exchange}" (no node has started on it)`,
        )
        : new BedsClientError("CLOSED", `Channel closed by RabbitMQ: ${error.message}`);
    });
    channel.on("close", () => {
      failure ??= new BedsClientError("CLOSED", "Connection closed before the replies came");
      wake();
    });
    await channel.consume(DIRECT_REPLY_TO, (msg) => {
      if (!msg || msg.properties.correlationId !== correlationId) return;
      try {
        replies.push(JSON.parse(msg.content.toString("utf8")) as AdminReply);
      } catch {
        return; // not a node's reply
      }
      if (request.node !== undefined || allAnswered(request.awaiting, replies)) wake();
    }, { noAck: true });
    channel.on("return", () => {
      failure ??= new BedsClientError("UNROUTABLE", noNode);
      wake();
    });
    const key = request.node === undefined ? ADMIN_BROADCAST_KEY : adminNodeKey(request.node);
    channel.publish(
      exchange,
      key,
      Buffer.from(JSON.stringify({ command: request.command })),
      {
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        contentType: "application/json",
        mandatory: true,
        userId: request.userId ?? amqpUser(request.amqp),
      },
    );
    await done;
    // Replies that came are answers, whatever happened after them.
    if (failure && !(failure.kind === "CLOSED" && replies.length)) throw failure;
    return replies;
  } finally {
    clearTimeout(timer);
    await connection.close().catch(() => {});
  }
}
