/**
 * The log store's event sink: samples, turns events into records and queues
 * them in a {@link BatchWriter}. `emit` never blocks and never throws.
 * Sampling keeps chains whole: the parts of a fan-out are recorded exactly
 * when their parent is (and, like any failure, whenever they failed).
 * With `foldParts`, a fan-out's successful parts go into their parent's
 * record instead of one record each ({@link FoldedPart}).
 *
 * @module
 */
import type { AdapterHealth } from "../adapters/mod.ts";
import type { EventSink, LogEvent } from "./events.ts";
import type { BatchWriter } from "./buffer.ts";
import { partSuffix } from "../protocol/mod.ts";
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
   * each; a failed part keeps its own. Readers unfold them (`unfoldParts`). @default false
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
  // The last sampled request and its draw. The consumer emits a fan-out's parts right after
  // their parent, and each part follows the parent's draw, so a sampled chain is kept whole.
  let drawnFor = "";
  let drawn = true;
  const keep = (event: LogEvent): boolean => {
    if (event.kind === "request" && event.parent !== undefined && event.parent === drawnFor) {
      // Left out with its parent unless it failed (failures are always recorded); no draw of its own.
      return drawn || shouldRecord(event, 0, () => 1);
    }
    const kept = shouldRecord(event, options.sampleRate, random);
    if (event.kind === "request") {
      drawnFor = event.event;
      drawn = kept;
    }
    return kept;
  };
  // The record of the last request, held back while its parts may follow. The consumer emits a
  // fan-out's parts synchronously right after their parent, so a microtask later the record is
  // complete and goes to the writer, which may take its batch the moment it is pushed.
  let held: LogRow | undefined;
  let releasing = false;
  const push = (row: LogRow) => {
    if (options.writer.push(row)) queued += eventsIn(row);
  };
  const release = () => {
    releasing = false;
    const row = held;
    held = undefined;
    if (row) push(row);
  };
  const record = (event: LogEvent) => {
    if (options.foldParts && event.kind === "request" && held && event.parent === held.event) {
      const n = partSuffix(event.event, event.parent);
      const part = n === undefined ? undefined : foldedPart(event, n);
      if (part) {
        (held.parts ??= []).push(part);
        return;
      }
      // A part that keeps a record of its own (a failure) goes as it is; its parent stays held
      // for the parts after it.
      return push(toLogRow(event, event.event));
    }
    const id = event.kind === "status" ? options.newId() : event.event;
    const row = toLogRow(event, id);
    release();
    if (!options.foldParts || event.kind !== "request") return push(row);
    held = row;
    if (!releasing) {
      releasing = true;
      queueMicrotask(release);
    }
  };
  return {
    emit(event: LogEvent) {
      try {
        if (!keep(event)) {
          sampledOut++;
          return;
        }
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
