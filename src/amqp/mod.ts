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
  type AmqpAnyMessage,
  type AmqpChannel,
  type AmqpConfirmChannel,
  type AmqpConnection,
  amqpEndpoint,
  type AmqpMessage,
  amqpUser,
  answeredBy,
  CLOSE_TIMEOUT_MS,
  closeConnection,
  coalesceWrites,
  connectAmqp,
  connectionBlocked,
  type ConnectOptions,
  describeAmqp,
  dropSocket,
  type PublishOptions,
  writesCoalesced,
} from "./connection.ts";
export {
  ADMIN_BROADCAST_KEY,
  adminExchangeName,
  adminNodeKey,
  adminQueueName,
  adminQueuePrefix,
  brokerQueueNames,
  deadLetterQueueName,
  DIRECT_REPLY_TO,
  HEADERS,
  instanceNameProblem,
  MAX_RETRY_TIERS,
  retryQueueName,
  workQueueName,
} from "./names.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export { amqpTimestamp, shortString } from "./properties.ts";
export { bodyCutFrom, framesGuarded, guardIncomingFrames, HEADERS_DROPPED } from "./frame_guard.ts";
export { topicMatches } from "./topic.ts";
export type { AmqpStatus } from "./status.ts";
export {
  type AmqpSupervisor,
  type AmqpSupervisorOptions,
  type ConnectionSetup,
  createAmqpSupervisor,
} from "./supervisor.ts";
export { type DeclaredQueue, declareTopology, type TopologySpec } from "./topology.ts";
export { createSideChannel, type SideChannel } from "./side_channel.ts";
export { commitTx, selectTx } from "./tx.ts";
