/**
 * The broker pool and its consumers (decode → dispatch → reply → ack).
 *
 * @example
 * ```ts
 * import { startBrokerPool, type BrokerPoolOptions } from "./mod.ts";
 * declare const options: BrokerPoolOptions;
 * const pool = await startBrokerPool(options);
 * await pool.stop(5000);
 * ```
 *
 * @module
 */
export { type BrokerPool, type BrokerPoolOptions, type BrokerStatus, startBrokerPool } from "./pool.ts";
export { type Consumer, type ConsumerOptions, startConsumer } from "./consumer.ts";
