/**
 * `BedsClient`: the TypeScript client applications import. One connection,
 * one channel, many requests in flight; replies arrive on RabbitMQ's direct
 * reply-to and are matched by correlation id. Requests are published
 * `mandatory`, so one that no queue is bound for is answered at once.
 * While RabbitMQ blocks the connection a request is refused at once, nothing
 * sent; while its write buffer is full one waits for room (write_gate.ts).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpConfirmChannel,
  type AmqpConnection,
  amqpUser,
  answeredBy,
  closeConnection,
  connectAmqp,
  DIRECT_REPLY_TO,
} from "../amqp/mod.ts";
import {
  BedsClientError,
  type BedsClientOptions,
  type RequestBody,
  type RequestOptions,
  timeoutError,
} from "./types.ts";
import type { Reply } from "../protocol/mod.ts";
import { encodeBody, encodeWithDeadline, routingKeyOf } from "./encode.ts";
import { PendingTable } from "./pending.ts";
import { WriteGate } from "./write_gate.ts";

const CLOSED_BY_CLIENT = "Client closed";

/** An AMQP request/reply client for BEDS. */
export class BedsClient {
  #connection: AmqpConnection;
  #channel: AmqpChannel;
  #exchange: string;
  #timeoutMs: number;
  #closeTimeoutMs: number;
  #pending: PendingTable;
  #seq = 0;
  #prefix = `${crypto.randomUUID().slice(0, 8)}-`;
  #closed = false;
  #confirm: boolean;
  #userId: string | undefined;
  /** What the requests still waiting are told when the channel closes. */
  #closeReason = "Connection closed";
  /** RabbitMQ blocks the connection (it reads nothing, a channel close included), or its buffer is full. */
  #gate = new WriteGate();
  /** close() has begun: it alone settles what still waits, for only it knows whether RabbitMQ took it. */
  #closing = false;

  private constructor(
    connection: AmqpConnection,
    channel: AmqpChannel,
    exchange: string,
    timeoutMs: number,
    closeTimeoutMs: number,
    confirm: boolean,
    userId: string | undefined,
    exactNumbers: boolean,
  ) {
    this.#pending = new PendingTable(exactNumbers);
    this.#closeTimeoutMs = closeTimeoutMs;
    this.#confirm = confirm;
    this.#userId = userId;
    this.#connection = connection;
    this.#channel = channel;
    this.#exchange = exchange;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects and starts listening for replies. */
  static async connect(options: BedsClientOptions): Promise<BedsClient> {
    const wrong = timeoutError(options.timeoutMs ?? 10_000) ?? timeoutError(options.closeTimeoutMs ?? 5000);
    if (wrong) throw wrong;
    const connection = await connectAmqp(options.amqp, { name: options.name ?? "beds-client" });
    try {
      const channel = options.confirm
        ? await connection.createConfirmChannel()
        : await connection.createChannel();
      const client = new BedsClient(
        connection,
        channel,
        options.exchange ?? options.amqp.exchange,
        options.timeoutMs ?? 10_000,
        options.closeTimeoutMs ?? 5000,
        options.confirm ?? false,
        options.userId === false ? undefined : options.userId ?? amqpUser(options.amqp),
        options.exactNumbers ?? false,
      );
      await channel.consume(DIRECT_REPLY_TO, (msg) => {
        if (msg) client.#pending.settle(msg.properties.correlationId, msg.content);
      }, { noAck: true });
      channel.on("return", (msg) => {
        client.#fail(
          msg.properties.correlationId,
          new BedsClientError("UNROUTABLE", `No queue is bound for "${msg.fields.routingKey}"`),
        );
      });
      // RabbitMQ closes the channel for a request it refuses (no such exchange, a user_id that is not
      // the login's): the requests waiting on it fail with that reason, and the connection, now of
      // no use to this client, is closed. Without an "error" listener amqplib would tear the whole
      // connection down and the reason would be lost.
      channel.on(
        "error",
        (error: Error) => client.#closeReason = `Channel closed by RabbitMQ: ${error.message}`,
      );
      channel.on("drain", () => client.#gate.drained());
      channel.on("close", () => {
        // amqplib reports a close-ok and a lost connection alike: close() tells them apart.
        if (client.#closing) return;
        client.#failAll(client.#closeReason);
        connection.close().catch(() => {});
      });
      connection.on("close", () => {
        if (!client.#closing) client.#failAll(client.#closeReason);
        client.#gate.closed();
      });
      connection.on("blocked", (reason?: string) => {
        client.#gate.block(reason);
      });
      connection.on("unblocked", () => client.#gate.unblock());
      connection.on("error", () => {});
      return client;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  /** Requests awaiting a reply. */
  get inflight(): number {
    return this.#pending.size;
  }

  /** True once the client was closed or lost its connection; it never reopens. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while RabbitMQ blocks the connection (a resource alarm): requests fail `DISCONNECTED`. */
  get blocked(): boolean {
    return this.#gate.blocked;
  }

  /**
   * Sends one request and resolves with its reply (`ok` true or false).
   * @throws {BedsClientError} on timeout, unroutable request, closed client, (with `confirm`) a
   * request RabbitMQ refuses (`REFUSED`), or `DISCONNECTED`, nothing sent: at once while RabbitMQ
   * blocks the connection (a resource alarm; such a request would only wait in memory and reach a
   * node past its deadline), or when the write buffer stays full (more requests than the socket
   * takes) for the whole `timeoutMs`.
   * @throws {TypeError} when the body cannot be written as JSON (a BigInt, a cycle), or its routing
   * key is over AMQP's 255 bytes; nothing is sent.
   * @throws {SyntaxError} when the reply is not JSON: something other than BEDS answered.
   * @throws {RangeError} when `timeoutMs` is out of range.
   */
  request(body: RequestBody, options: RequestOptions = {}): Promise<Reply> {
    if (this.#closed) return Promise.reject(new BedsClientError("CLOSED", "Client is closed"));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const wrong = timeoutError(timeoutMs);
    if (wrong) return Promise.reject(wrong);
    let key: string;
    let payload: Buffer;
    try {
      key = routingKeyOf(body);
      // amqplib wants a Buffer: a view of the caller's bytes, not a copy.
      payload = options.rawBody
        ? Buffer.from(options.rawBody.buffer, options.rawBody.byteOffset, options.rawBody.byteLength)
        : encodeWithDeadline(body, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const refusal = this.#gate.refusal();
    if (refusal) return Promise.reject(refusal);
    if (this.#gate.full) return this.#requestWithRoom(body, options, timeoutMs);
    const correlationId = this.#prefix + (this.#seq++).toString(36);
    const reply = this.#pending.awaitReply(correlationId, key, timeoutMs);
    this.#publish(correlationId, () =>
      // On a plain channel amqplib ignores the callback.
      (this.#channel as AmqpConfirmChannel).publish(this.#exchange, key, payload, {
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        contentType: "application/json",
        mandatory: true,
        userId: this.#userId,
      }, this.#onNack(correlationId)));
    return reply;
  }

  /**
   * A request made while the write buffer is over its mark waits for room, for at most its timeout
   * (and then has what is left of it), instead of piling up in amqplib's buffer.
   */
  async #requestWithRoom(body: RequestBody, options: RequestOptions, timeoutMs: number): Promise<Reply> {
    const started = performance.now();
    if (!await this.#gate.room(timeoutMs)) throw WriteGate.noRoom(timeoutMs);
    // Woken because the connection is gone: this request never left, so it is no CLOSED ("may have
    // run") but nothing sent.
    if (this.#closed) {
      throw new BedsClientError(
        "DISCONNECTED",
        "The connection closed before the request was sent; nothing was sent",
      );
    }
    const left = Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
    return this.request(body, { ...options, timeoutMs: left });
  }

  /** With confirms, fails the request RabbitMQ refuses (it never reaches a node); an ack says nothing. */
  #onNack(correlationId: string): ((error: unknown) => void) | undefined {
    if (!this.#confirm) return undefined;
    return (error) => {
      if (isNack(error)) this.#fail(correlationId, refused());
    };
  }

  /**
   * Publishes a request with no reply expected (fire-and-forget, e.g. batch writes). With
   * `confirm`, resolves once RabbitMQ has taken the message, with no timeout; an unroutable one
   * rejects with `UNROUTABLE`, one RabbitMQ refuses with `REFUSED`, and one whose channel closes
   * first with `CLOSED` (it may have been taken). Without `confirm` it resolves once the message is
   * handed to the connection: at once while its write buffer has room, else when the buffer
   * drains, so a loop of awaited sends goes at the socket's pace. `close()` sends what was handed
   * over before it closes. A failed fire-and-forget write is kept in the broker's dead-letter queue.
   * @throws {TypeError} when the body cannot be written as JSON (a BigInt, a cycle), or its routing
   * key is over AMQP's 255 bytes; nothing is sent.
   */
  send(body: RequestBody): Promise<void> {
    if (this.#closed) return Promise.reject(new BedsClientError("CLOSED", "Client is closed"));
    const correlationId = this.#prefix + (this.#seq++).toString(36);
    return new Promise<void>((resolve, reject) => {
      // In here, so that a body JSON cannot hold, or a key AMQP cannot carry, rejects.
      const key = routingKeyOf(body);
      const payload = encodeBody(body, body);
      // No timer. RabbitMQ acks or nacks every message or closes the channel, and the heartbeat
      // closes a connection gone silent (with heartbeats off, only close() ends that wait). How long
      // a confirm takes (the buffer ahead of it, a resource alarm, a quorum queue without its
      // majority) says nothing of whether it comes, and a caller told "no confirm" would send again.
      this.#pending.add(correlationId, { resolve: () => resolve(), reject, awaitsReply: false });
      // A return (unroutable) arrives before the confirm, so settle on whichever fails first. On a
      // plain channel amqplib ignores the callback.
      const written = this.#publish(correlationId, () =>
        (this.#channel as AmqpConfirmChannel).publish(
          this.#exchange,
          key,
          payload,
          {
            correlationId,
            contentType: "application/json",
            mandatory: true,
            persistent: true,
            userId: this.#userId,
          },
          (error: unknown) => {
            const pending = this.#pending.take(correlationId);
            if (!pending) return;
            if (!error) return resolve();
            pending.reject(
              isNack(error) ? refused() : new BedsClientError(
                "CLOSED",
                "Channel closed before RabbitMQ confirmed the message: it may or may not have been taken",
              ),
            );
          },
        ));
      if (this.#confirm || written === undefined) return;
      // Without confirms nothing is waited for beyond a possible return and room to write: handed
      // over, the message leaves with the buffer whenever it drains, and only a lost connection fails it.
      const handedOver = () => {
        if (this.#pending.take(correlationId)) resolve();
      };
      if (written) setTimeout(handedOver, 0);
      else this.#gate.afterDrain(handedOver);
    });
  }

  /**
   * Closes the channel, then the connection. Requests still waiting for a reply reject `CLOSED`
   * at once: their replies would come on the channel being closed. The channel's close goes out
   * after the messages still in its write buffer, so once RabbitMQ answers it, it has every one
   * handed over; the connection's close alone could leave first and RabbitMQ would drop them.
   * Sends still waiting for room in that buffer resolve only then, and reject `CLOSED` when the
   * connection is lost first. While RabbitMQ blocks the connection (a resource alarm) it reads
   * nothing: the connection then closes at once, and what is still buffered is lost (`confirm`
   * tells). With no answer within `closeTimeoutMs` (a network that went silent) the connection
   * is dropped, and so is what it still buffered.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#closeReason = CLOSED_BY_CLIENT;
    this.#pending.failAll(CLOSED_BY_CLIENT, true);
    const deadline = Date.now() + this.#closeTimeoutMs;
    // Blocked, RabbitMQ would not read the channel's close (amqplib closes a blocked connection at
    // once), and on a connection that closed meanwhile amqplib never completes it.
    const flushed = !this.#gate.blocked &&
      await answeredBy(this.#connection, this.#channel.close(), deadline);
    if (flushed) this.#gate.drained();
    this.#failAll(flushed ? CLOSED_BY_CLIENT : "Connection closed before RabbitMQ took the message");
    await closeConnection(this.#connection, Math.max(0, deadline - Date.now()));
  }

  /**
   * Runs one publish for pending `correlationId`: amqplib's answer (false: its write buffer is
   * over its mark), or undefined when it threw (a closing channel), and the request has failed
   * with the reason.
   */
  #publish(correlationId: string, publish: () => boolean): boolean | undefined {
    let written: boolean;
    try {
      written = publish();
    } catch (error) {
      this.#fail(correlationId, new BedsClientError("CLOSED", `Not sent: ${(error as Error).message}`));
      return undefined;
    }
    this.#gate.published(written);
    return written;
  }

  #fail(correlationId: string | undefined, error: Error): void {
    this.#pending.fail(correlationId, error);
  }

  #failAll(reason: string): void {
    this.#closed = true;
    this.#pending.failAll(reason);
  }
}

/** amqplib reports a nack and a channel closing with the message unconfirmed alike, but for the text. */
function isNack(error: unknown): boolean {
  return error instanceof Error && /nack/i.test(error.message);
}

function refused(): BedsClientError {
  return new BedsClientError("REFUSED", "RabbitMQ refused the message");
}
