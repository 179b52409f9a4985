/**
 * A bounded buffer that writes items in batches, off the caller's path:
 * `push` returns at once, a batch is written when `batchSize` items wait or
 * `flushMs` passed since the first of them. Only what is due then goes out
 * as a partial batch: what arrives while it is written waits for a full
 * batch or its own `flushMs` (writing it at once instead turned a steady
 * load into a stream of tiny back-to-back batches). One batch is written at
 * a time; a failed batch is retried `maxRetries` times, then dropped and
 * counted, but while its failures say the store is unreachable it is kept
 * and tried again for up to `outageMs` (new items wait behind it, up to the
 * buffer's bounds): an outage of a few seconds would otherwise drop exactly
 * the records of the errors it caused.
 * When the buffer holds `capacity` items, new ones are dropped and counted.
 * Capacity and counters weigh items by their `weight` (a log record with a
 * fan-out's parts folded in stands for its events); batches count items, as
 * a heavy record costs a write less than the records it stands for would.
 * With `maxSize`, the items held are bounded by their `size` too (the memory
 * they hold): a count alone lets a few large items fill the memory.
 *
 * @module
 */

/** Options for {@link createBatchWriter}. */
export interface BatchWriterOptions<T> {
  /** Writes one batch; a rejection counts as a failed attempt. */
  write(batch: T[]): Promise<void>;
  /** Items per write (not weighed: see the module doc). */
  batchSize: number;
  /** Longest an item waits before its (partial) batch is written. */
  flushMs: number;
  /** Items held at most (by their `weight`, passed by at most the last one's), including the batch being written. */
  capacity: number;
  /**
   * The most `size` held at once, including the batch being written; past it new items are dropped
   * and counted, as past `capacity`. @default Infinity
   */
  maxSize?: number;
  /** How large an item is, for `maxSize` (e.g. its text's length); must be cheap. @default 0 each */
  size?: (item: T) => number;
  /** Further attempts at a failed batch. @default 3 */
  maxRetries?: number;
  /** Pause before the first retry, doubled for each further one (at most 5 s). @default 100 */
  retryDelayMs?: number;
  /** Whether a failure says the store is unreachable (down, connection lost), not the batch wrong. */
  unavailable?: (error: unknown) => boolean;
  /**
   * How long a batch whose failures say the store is unreachable is kept and tried again, past
   * `maxRetries`, before it is dropped. Not while closing. @default 0
   */
  outageMs?: number;
  /**
   * How many items one stands for in the capacity and the counters (a log record with
   * folded parts stands for several events). @default 1 each
   */
  weight?: (item: T) => number;
  /** Told about every failed attempt (e.g. to log it); must not throw. */
  onError?: (error: unknown, info: { size: number; attempt: number; dropped: boolean }) => void;
}

/** Counters of a {@link BatchWriter}. */
export interface BatchWriterStats {
  /** Items waiting or being written (by their `weight`). */
  buffered: number;
  /** Items written (by their `weight`). */
  written: number;
  /** Items dropped: buffer full, or their batch failed every attempt (by their `weight`). */
  dropped: number;
  /** Failed write attempts. */
  failures: number;
  /** Batches written. */
  batches: number;
}

/** A running batch writer. */
export interface BatchWriter<T> {
  /** Queues an item; false (and counted) when the buffer is full or closed. Never blocks. */
  push(item: T): boolean;
  /** Writes everything queued now; resolves when it is written (or dropped). */
  flush(): Promise<void>;
  /** Stops accepting items and flushes, giving up after `timeoutMs` (the rest counts as dropped). */
  close(timeoutMs?: number): Promise<void>;
  /** Items dropped so far. */
  dropped(): number;
  stats(): BatchWriterStats;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A write that stored part of its batch before it failed (a store without batch statements
 * writes item by item): those count as written, and only the rest is tried again or dropped.
 */
export class PartialWriteError<T> extends Error {
  readonly stored: readonly T[];
  constructor(stored: readonly T[], cause: unknown) {
    super(`${stored.length} of the batch stored, the rest failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = "PartialWriteError";
    this.stored = stored;
  }
}

/** Creates a batch writer; nothing runs until the first `push`. */
export function createBatchWriter<T>(options: BatchWriterOptions<T>): BatchWriter<T> {
  const { batchSize, flushMs, capacity } = options;
  const maxRetries = options.maxRetries ?? 3;
  const weightOf = options.weight ?? (() => 1);
  const weigh = (items: readonly T[]) => {
    let sum = 0;
    for (const item of items) sum += weightOf(item);
    return sum;
  };
  const maxSize = options.maxSize ?? Infinity;
  const sizeOf = options.size ?? (() => 0);
  const measure = (items: readonly T[]) => {
    let sum = 0;
    for (const item of items) sum += sizeOf(item);
    return sum;
  };
  const retryDelayMs = options.retryDelayMs ?? 100;
  const queue: T[] = [];
  // Weights of what waits in `queue` and of the batch being written, for the capacity.
  let queued = 0;
  let inflight = 0;
  // Sizes of the same, for maxSize.
  let queuedSize = 0;
  let inflightSize = 0;
  let written = 0;
  let dropped = 0;
  let failures = 0;
  let batches = 0;
  let closed = false;
  let abandoned = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let draining: Promise<void> | undefined;
  // How many of the oldest queued items go out now, whatever the batch size: those whose
  // flushMs passed, or that a flush asked for.
  let due = 0;
  // When the oldest item not yet due was queued (undefined while none waits); when a full batch
  // took it, the next timer fires early, never late.
  let waitingSince: number | undefined;

  const outageMs = options.outageMs ?? 0;
  const unreachable = (error: unknown) =>
    options.unavailable?.(error instanceof PartialWriteError ? error.cause : error) === true;

  const writeBatch = async (batch: T[]) => {
    let failingSince: number | undefined;
    for (let attempt = 1;; attempt++) {
      if (!batch.length) return;
      if (abandoned) {
        dropped += weigh(batch);
        return;
      }
      try {
        await options.write(batch);
        written += weigh(batch);
        batches++;
        return;
      } catch (error) {
        failures++;
        if (error instanceof PartialWriteError) {
          const stored = new Set<T>(error.stored);
          written += weigh(error.stored);
          inflight -= weigh(error.stored);
          inflightSize -= measure(error.stored);
          batch = batch.filter((item) => !stored.has(item));
        }
        failingSince ??= performance.now();
        // The store is down: the batch waits for it (with the buffer behind it), up to outageMs.
        const waiting = !closed && unreachable(error) && performance.now() - failingSince < outageMs;
        const last = attempt > maxRetries && !waiting;
        if (last) dropped += weigh(batch);
        try {
          options.onError?.(error, { size: batch.length, attempt, dropped: last });
        } catch {
          // A reporting problem must not stop the writer.
        }
        if (last) return;
        if (!closed) await sleep(Math.min(retryDelayMs * 2 ** (attempt - 1), 5000));
      }
    }
  };

  const take = (): T[] => {
    const batch = queue.splice(0, batchSize);
    due = Math.max(0, due - batch.length);
    if (!queue.length) waitingSince = undefined;
    inflight = weigh(batch);
    queued -= inflight;
    inflightSize = measure(batch);
    queuedSize -= inflightSize;
    return batch;
  };

  // One drain loop at a time: batches are written in order, one after another.
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      try {
        while (queue.length && (due > 0 || closed || queue.length >= batchSize)) {
          const batch = take();
          await writeBatch(batch);
          inflight = 0;
          inflightSize = 0;
        }
      } finally {
        draining = undefined;
        if (queue.length && !abandoned) schedule();
      }
    })();
    return draining;
  };

  const stopTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  // Everything queued now is due: written in batches of up to batchSize, full or not.
  const makeDue = () => {
    stopTimer();
    due = queue.length;
    waitingSince = undefined;
  };

  const schedule = () => {
    if (queue.length >= batchSize || due > 0) {
      stopTimer();
      void drain();
      return;
    }
    if (timer === undefined && !draining && waitingSince !== undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        makeDue();
        void drain();
      }, Math.max(0, waitingSince + flushMs - performance.now()));
    }
  };

  const flush = async () => {
    makeDue();
    while (due > 0 || draining) await (draining ?? drain());
  };

  return {
    push(item) {
      const weight = weightOf(item);
      // Full once `capacity` (or `maxSize`) is reached: a heavy (or large) item may pass it by its
      // own weight (or size), never more.
      if (closed || queued + inflight >= capacity || queuedSize + inflightSize >= maxSize) {
        dropped += weight;
        return false;
      }
      queue.push(item);
      queued += weight;
      queuedSize += sizeOf(item);
      waitingSince ??= performance.now();
      if (!draining) schedule();
      return true;
    },
    flush,
    async close(timeoutMs = 5000) {
      closed = true;
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<void>((resolve) => timeout = setTimeout(resolve, timeoutMs));
      await Promise.race([flush(), gaveUp]);
      clearTimeout(timeout);
      if (queue.length || draining) {
        abandoned = true;
        dropped += weigh(queue.splice(0));
        queued = 0;
        queuedSize = 0;
        due = 0;
        waitingSince = undefined;
      }
      stopTimer();
    },
    dropped: () => dropped,
    stats: () => ({ buffered: queued + inflight, written, dropped, failures, batches }),
  };
}
