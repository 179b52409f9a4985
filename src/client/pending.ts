/**
 * The client's table of requests and sends still waiting: each settles once, by its reply, a
 * confirm, a failure or its timer, whichever comes first.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { BedsClientError } from "./types.ts";
import { parseExact } from "../protocol/exact_numbers.ts";
import type { Reply } from "../protocol/mod.ts";

/** One request or send still waiting. */
export interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  /** A request's reply timeout; a send has none. */
  timer?: ReturnType<typeof setTimeout>;
  /** A request(): its reply comes on the channel, so it cannot outlive the channel's close. */
  awaitsReply: boolean;
}

/** Waiting requests by correlation id. */
export class PendingTable {
  #pending = new Map<string, Pending>();
  #parse: (text: string) => unknown;

  /** `exactNumbers`: replies parsed keeping a number a double would change as its literal. */
  constructor(exactNumbers = false) {
    this.#parse = exactNumbers ? parseExact : JSON.parse;
  }

  get size(): number {
    return this.#pending.size;
  }

  add(correlationId: string, pending: Pending): void {
    this.#pending.set(correlationId, pending);
  }

  /** Removes and returns `correlationId`'s entry with its timer stopped; undefined once settled. */
  take(correlationId: string | undefined): Pending | undefined {
    const pending = correlationId === undefined ? undefined : this.#pending.get(correlationId);
    if (!pending) return undefined;
    this.#pending.delete(correlationId!);
    clearTimeout(pending.timer);
    return pending;
  }

  /**
   * The reply to `correlationId`, or its failure after `timeoutMs`. Made apart from the request's
   * body and payload: what stays in memory until the reply comes (the timer, the entry) holds
   * neither, so a gateway waiting on a stalled node does not hold every body it forwarded.
   */
  awaitReply(correlationId: string, key: string, timeoutMs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(correlationId, new BedsClientError("TIMEOUT", `No reply to ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(correlationId, { resolve, reject, timer, awaitsReply: true });
    });
  }

  /** Settles `correlationId` with its reply; a late reply (after a timeout) is dropped. */
  settle(correlationId: string | undefined, content: Buffer): void {
    const pending = this.take(correlationId);
    if (!pending) return;
    let reply: Reply;
    try {
      reply = this.#parse(content.toString("utf8")) as Reply;
    } catch (error) {
      pending.reject(new SyntaxError(`Reply is not JSON: ${(error as Error).message}`, { cause: error }));
      return;
    }
    pending.resolve(reply);
  }

  fail(correlationId: string | undefined, error: Error): void {
    this.take(correlationId)?.reject(error);
  }

  /** Fails every entry (only the requests awaiting a reply, with `onlyReplies`) `CLOSED`. */
  failAll(reason: string, onlyReplies = false): void {
    for (const [id, pending] of [...this.#pending]) {
      if (!onlyReplies || pending.awaitsReply) this.fail(id, new BedsClientError("CLOSED", reason));
    }
  }
}
