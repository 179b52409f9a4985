/**
 * Whether the client's connection can take a request now. RabbitMQ blocks a connection during a
 * resource alarm and reads nothing from it; amqplib then keeps every message published in its
 * channel's write buffer, in memory and without bound, and a request waiting there would reach a
 * queue only after the block, long past its deadline. So a request is refused at once while the
 * connection is blocked: nothing is sent, the caller may try again. The same buffer grows while
 * the socket is slower than the publisher: past its high-water mark (a publish answered false and
 * no drain came since) a request waits for room ({@link WriteGate.room}) for at most its timeout,
 * in the caller's memory rather than amqplib's, and one that finds none is refused, nothing sent.
 * A send without confirms waits for the drain as well ({@link WriteGate.afterDrain}).
 *
 * @module
 */
import { BedsClientError } from "./types.ts";

/** What the connection can take now; the client feeds it amqplib's answers and events. */
export class WriteGate {
  #blockedBy: string | undefined;
  #full = false;
  #afterDrain = new Set<() => void>();
  #roomWaiters = new Set<() => void>();

  /** True while RabbitMQ blocks the connection (a resource alarm). */
  get blocked(): boolean {
    return this.#blockedBy !== undefined;
  }

  /** RabbitMQ blocked the connection, for `reason` (e.g. "low on memory"). */
  block(reason: string | undefined): void {
    this.#blockedBy = reason || "resource alarm";
    // Requests waiting for room are refused at once too, as new ones are, not at their timeout.
    this.#wakeRoomWaiters();
  }

  unblock(): void {
    this.#blockedBy = undefined;
  }

  /** Notes a publish's answer: false means amqplib's write buffer is over its mark until 'drain'. */
  published(written: boolean): void {
    if (!written) this.#full = true;
  }

  /** True while the write buffer is over its mark. */
  get full(): boolean {
    return this.#full;
  }

  /** The buffer drained (or close() sent it): what waited for room is handed over. */
  drained(): void {
    this.#full = false;
    const waiting = [...this.#afterDrain, ...this.#roomWaiters];
    this.#afterDrain.clear();
    this.#roomWaiters.clear();
    for (const handedOver of waiting) handedOver();
  }

  /**
   * The connection is gone: requests waiting for room learn it now, not at their timeout. The
   * sends waiting for the drain have failed with it; what they left here is dropped.
   */
  closed(): void {
    this.#afterDrain.clear();
    this.#wakeRoomWaiters();
  }

  #wakeRoomWaiters(): void {
    const waiting = [...this.#roomWaiters];
    this.#roomWaiters.clear();
    for (const wake of waiting) wake();
  }

  /** Runs `handedOver` once the buffer drains. */
  afterDrain(handedOver: () => void): void {
    this.#afterDrain.add(handedOver);
  }

  /**
   * Resolves true once the buffer has room (or the connection is gone or blocked, which the caller then finds),
   * or false when `timeoutMs` passes first.
   */
  room(timeoutMs: number): Promise<boolean> {
    if (!this.#full) return Promise.resolve(true);
    return new Promise((resolve) => {
      const handedOver = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#roomWaiters.delete(handedOver);
        resolve(false);
      }, timeoutMs);
      this.#roomWaiters.add(handedOver);
    });
  }

  /** Why a request cannot be sent now (`DISCONNECTED`: nothing was sent), or undefined when it can. */
  refusal(): BedsClientError | undefined {
    if (this.#blockedBy === undefined) return undefined;
    return new BedsClientError(
      "DISCONNECTED",
      `RabbitMQ blocks the connection (${this.#blockedBy}); nothing was sent, try again later`,
    );
  }

  /** A request that found no room in the buffer within its timeout: nothing was sent. */
  static noRoom(timeoutMs: number): BedsClientError {
    return new BedsClientError(
      "DISCONNECTED",
      `The connection's write buffer stayed full for ${timeoutMs} ms; nothing was sent, try again later`,
    );
  }
}
