/**
 * The broker pool and its consumers (decode → dispatch → decide → reply,
 * retry or dead-letter → ack), with the pure retry and restart policies.
 *
 * @example
 * ```ts
 * import { createBrokerPool, type BrokerPoolOptions } from "./mod.ts";
 * declare const options: BrokerPoolOptions;
 * const pool = createBrokerPool(options);
 * await pool.stop(5000);
 * ```
 *
 * @module
 */
export { type BrokerPool, type BrokerPoolOptions, type BrokerStatus, createBrokerPool } from "./pool.ts";
export { type Consumer, type ConsumerOptions, startConsumer } from "./consumer.ts";
export { type RetryRoute, storeSafeCopy } from "./safe_copy.ts";
export { decide, type DecisionInput, type Disposition, isWrite } from "./retry_policy.ts";
export {
  inCrashLoop,
  nextRestart,
  RESTART_POLICY,
  type RestartDecision,
  type RestartInput,
  type RestartPolicy,
  type SlotState,
} from "./restart_policy.ts";
export { type BrokerCounters, type CounterSnapshot, createCounters } from "./counters.ts";
export { type DeadLetter, listDeadLetters, purgeDeadLetters } from "./dead_letters.ts";
export {
  type DeadLetterSource,
  replayDeadLetters,
  type ReplayOptions,
  type ReplayResult,
} from "./dead_letter_replay.ts";
export { type AdminCommand, type AdminHandler, startAdminListener } from "./admin.ts";
export { createReplyTargets, type RefusedReply, type ReplyTargets } from "./reply_targets.ts";
