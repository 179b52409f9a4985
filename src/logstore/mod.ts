/**
 * The log store: node events (requests, retries, dead letters, IPL records,
 * status changes), their sinks, and the batched writer that records them
 * through the `mst` template off the request path.
 *
 * @example
 * ```ts
 * import { fanOut, type LogEvent } from "./mod.ts";
 * const seen: LogEvent[] = [];
 * fanOut([{ emit: (e) => seen.push(e) }]).emit({ kind: "status", at: "", node: "n", status: { type: "closed" } });
 * ```
 *
 * @module
 */
export {
  type EventSink,
  fanOut,
  type IplEvent,
  type LogEvent,
  NULL_SINK,
  type PartEvent,
  type RequestEvent,
  type StatusEvent,
} from "./events.ts";
export {
  type BatchWriter,
  type BatchWriterOptions,
  type BatchWriterStats,
  createBatchWriter,
  PartialWriteError,
} from "./buffer.ts";
export {
  batchTuple,
  docText,
  type FoldedPart,
  fromStoredRow,
  levelOf,
  type LogLevel,
  type LogRow,
  rowSize,
  shouldRecord,
  type StoredEvent,
  toLogRow,
} from "./rows.ts";
export { sqlTime } from "./sql_time.ts";
export { eventsIn, foldedPart, storedRecords, unfoldParts } from "./fold.ts";
export {
  createLogStoreSink,
  type LogStoreSink,
  type LogStoreSinkOptions,
  type LogStoreStats,
} from "./sink.ts";
export { type AdminRequester, type AmqpLogStoreOptions, createAmqpLogStore } from "./amqp_store.ts";
export { splitBySize } from "./split.ts";
export {
  createLogStore,
  type LogStore,
  type LogStoreOptions,
  matchesTail,
  MAX_CALL_CHARS,
  TAIL_FILTER_WIDTHS,
  type TailFilter,
} from "./store.ts";
export { CHAIN_LIMIT, type ChainRead } from "./chain_cut.ts";
export { buildChainTree, type ChainNode, describeRecord, formatTailLine, renderChainTree } from "./chain.ts";
export {
  loadLogStoreTemplate,
  LOGSTORE_COLLECTION,
  LOGSTORE_INDEXES,
  LOGSTORE_TEMPLATE,
  type LogStoreTemplateOptions,
} from "./template.ts";
