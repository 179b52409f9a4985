/**
 * The log store's event sink: samples, turns events into records and queues
 * them in a {@link BatchWriter}. `emit` never blocks and never throws.
 * Sampling keeps chains whole: the parts of a fan-out (carried in their
 * parent's event) are recorded exactly when their parent is, and, like any
 * failure, whenever they failed.
 * With `foldParts`, a fan-out's successful parts go into their parent's
 * record instead of one record each ({@link FoldedPart}), when that record
 * is of level info (the parent succeeded) as they are.
 *
 * @module
 */
import type { AdapterHealth } from "../adapters/mod.ts";
import { type EventSink, type LogEvent, partRequestEvent, type RequestEvent } from "./events.ts";
import type { BatchWriter } from "./buffer.ts";
import { type LogRow, shouldRecord, toLogRow } from "./rows.ts";
import { eventsIn, foldedPart } from "./fold.ts";

/** Options for {@link createLogStoreSink}. */
export interface LogStoreSinkOptions {
  writer: BatchWriter<LogRow>;
  /** Share of successful requests recorded (0–1); a fan-out's parts follow their parent's draw. */
  sampleRate: number;
  /** Id for events that carry none (status changes). */
  newId: () => string;
  /** @default Math.random */
  random?: () => number;
  /** Health of the store's own database connection, when it has one (MariaDB). */
  health?: () => AdapterHealth;
  /**
   * Record a fan-out's successful parts inside their parent's record rather than one record
   * each, when the parent succeeded; a failed part, and every part of a failed or retried
   * fan-out, keeps its own. Readers unfold them (`unfoldParts`). @default false
   */
  foldParts?: boolean;
}

/** Counters of the log store sink, for status and metrics. */
export interface LogStoreStats {
  /** Events handed to the store (a folded part is one). */
  queued: number;
  /** Successful requests left out by sampling. */
  sampledOut: number;
  /** Events not recorded: buffer full or store failing. */
  dropped: number;
  /** Events written (a folded part is one). */
  written: number;
  /** Failed write attempts. */
  failures: number;
  /** Events waiting or being written (a folded part is one). */
  buffered: number;
  /** The store's own connection, when it has one. */
  connection?: AdapterHealth;
}

/** An event sink backed by the log store. */
export interface LogStoreSink extends EventSink {
  /** Events dropped so far (buffer full, or the store failed every attempt). */
  dropped(): number;
  stats(): LogStoreStats;
}

/** Creates the sink; the writer decides when records reach the store. */
export function createLogStoreSink(options: LogStoreSinkOptions): LogStoreSink {
  const random = options.random ?? Math.random;
  let queued = 0;
  let sampledOut = 0;
  let failedToMap = 0;
  const push = (row: LogRow) => {
    if (options.writer.push(row)) queued += eventsIn(row);
  };
  // A fan-out arrives whole, its parts inside the parent's event: one draw keeps or leaves the
  // chain together, and a part that failed is recorded either way (failures always are).
  const recordRequest = (event: RequestEvent) => {
    const kept = shouldRecord(event, options.sampleRate, random);
    const row = kept ? toLogRow(event, event.event) : undefined;
    if (!kept && !event.admin) sampledOut++;
    if (event.parts === undefined) {
      if (row) push(row);
      return;
    }
    let own: LogRow[] | undefined;
    // Only into a record of level info: a folded part is info, and a store filters records by
    // their own level, so the successful parts of a failed or retried fan-out would be left out
    // of `--level info` (and shown with `--level error`) where records of their own are not.
    const fold = row !== undefined && options.foldParts === true && row.level === "info";
    for (const part of event.parts) {
      const folded = fold ? foldedPart(part, part.event.slice(event.event.length + 1)) : undefined;
      if (folded) (row!.parts ??= []).push(folded);
      else if (kept || part.code !== undefined) {
        (own ??= []).push(toLogRow(partRequestEvent(event, part), part.event));
      } else sampledOut++;
    }
    if (row) push(row);
    for (const partRow of own ?? []) push(partRow);
  };
  const record = (event: LogEvent) => {
    if (event.kind === "request") return recordRequest(event);
    if (event.kind === "status") return push(toLogRow(event, options.newId()));
    push(toLogRow(event, event.event));
  };
  return {
    emit(event: LogEvent) {
      try {
        record(event);
      } catch {
        // An event that cannot be mapped is lost, not the request that reported it.
        failedToMap++;
      }
    },
    dropped: () => options.writer.dropped() + failedToMap,
    stats() {
      const w = options.writer.stats();
      return {
        queued,
        sampledOut,
        dropped: w.dropped + failedToMap,
        written: w.written,
        failures: w.failures,
        buffered: w.buffered,
        ...(options.health ? { connection: options.health() } : {}),
      };
    },
  };
}
