/**
 * Connection state changes as a tagged union, read alike by logs, metrics
 * and the log store.
 *
 * @module
 */

/** One state change of a supervised AMQP connection. */
export type AmqpStatus =
  | { type: "connected"; attempt: number }
  | { type: "disconnected"; reason: string }
  | { type: "reconnecting"; attempt: number; delayMs: number }
  | { type: "reconnect_failed"; attempt: number; reason: string }
  | { type: "blocked"; reason: string }
  | { type: "unblocked" }
  | { type: "closed" };
