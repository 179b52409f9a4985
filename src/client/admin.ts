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
import { BedsClientError } from "./client.ts";

/** Options for {@link sendAdminCommand}. */
export interface AdminRequest {
  amqp: AmqpConfig;
  command: string;
  /** Node instance to reach; every node when undefined. */
  node?: string;
  /** How long to collect replies (broadcast) or wait for the one reply. @default 2000 */
  waitMs?: number;
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

/**
 * Sends the command and returns the replies received in time.
 * @throws {BedsClientError} `UNROUTABLE` when no node listens on the key.
 */
export async function sendAdminCommand(request: AdminRequest): Promise<AdminReply[]> {
  const connection = await connectAmqp(request.amqp, { name: "beds admin" });
  try {
    const channel = await connection.createChannel();
    const replies: AdminReply[] = [];
    const waitMs = request.waitMs ?? 2000;
    const correlationId = crypto.randomUUID();
    let unroutable = false;
    let wake = () => {};
    const done = new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, waitMs);
    });
    await channel.consume(DIRECT_REPLY_TO, (msg) => {
      if (!msg || msg.properties.correlationId !== correlationId) return;
      replies.push(JSON.parse(msg.content.toString("utf8")) as AdminReply);
      if (request.node !== undefined) wake();
    }, { noAck: true });
    channel.on("return", () => {
      unroutable = true;
      wake();
    });
    const key = request.node === undefined ? ADMIN_BROADCAST_KEY : adminNodeKey(request.node);
    channel.publish(
      adminExchangeName(request.amqp.exchange),
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
    if (unroutable) {
      throw new BedsClientError(
        "UNROUTABLE",
        request.node === undefined ? "No node is listening" : `No node "${request.node}" is listening`,
      );
    }
    return replies;
  } finally {
    await connection.close().catch(() => {});
  }
}
