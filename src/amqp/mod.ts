/**
 * AMQP: connections from config, pure topology names, idempotent declare.
 * amqplib is imported only in this folder.
 *
 * @example
 * ```ts
 * import { workQueueName } from "./mod.ts";
 * console.log(workQueueName("", "appServer", "rBroker")); // "appServer.rBroker"
 * ```
 *
 * @module
 */
export {
  type AmqpChannel,
  type AmqpConnection,
  amqpEndpoint,
  type AmqpMessage,
  connectAmqp,
  type ConnectOptions,
  describeAmqp,
} from "./connection.ts";
export { DIRECT_REPLY_TO, workQueueName } from "./names.ts";
export { type DeclaredQueue, declareTopology, type TopologySpec } from "./topology.ts";
