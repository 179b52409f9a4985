/**
 * The system log: a node's own warn, error and fatal log lines, shipped in
 * batches to the admin role's adminSyslogBroker (`call.slg log_batch` on the
 * admin exchange), so the fleet's problems can be read in one place
 * (`read.slg`). The logger's tap sees every line from the first one; lines
 * logged before the admin link is up (IPL warnings) wait in a bounded buffer.
 *
 * @module
 */
import { clip, wellFormed } from "../logstore/text.ts";
import { createBatchWriter, splitBySize } from "../logstore/mod.ts";
import type { BatchWriter, BatchWriterStats } from "../logstore/mod.ts";

/** One line as the `slg` template's batch call takes it. */
export interface SyslogLine {
  /** Unique per line, so a batch sent twice is stored once. */
  id: string;
  /** UTC time as `YYYY-MM-DD HH:MM:SS.mmm`. */
  at: string;
  node: string;
  level: "warn" | "error" | "fatal";
  msg: string;
  /** The whole JSON line. */
  line: string;
}

/** Message of the shipper's own failures; never shipped, or a failing link would feed itself. */
export const SHIPPING_FAILED = "system log shipping failed";

const LEVELS = ['{"level":"warn"', '{"level":"error"', '{"level":"fatal"'] as const;

/** The line as a {@link SyslogLine}, or undefined when it is below warn or not ours to ship. */
export function toSyslogLine(line: string, node: string, id: string): SyslogLine | undefined {
  // The logger writes the level first; anything else is not a warning and costs one startsWith.
  if (!LEVELS.some((prefix) => line.startsWith(prefix))) return undefined;
  let parsed: { level?: string; time?: string; msg?: unknown };
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed.msg === SHIPPING_FAILED) return undefined;
  const at = typeof parsed.time === "string" && !Number.isNaN(Date.parse(parsed.time))
    ? parsed.time
    : new Date().toISOString();
  return {
    id,
    at: at.slice(0, 23).replace("T", " "),
    node,
    level: parsed.level as SyslogLine["level"],
    // Well-formed and cut by whole characters: a lone surrogate (half an emoji) goes into the
    // batch's JSON as an escape MariaDB refuses, and fails every line of the batch with it.
    msg: typeof parsed.msg === "string" ? clip(wellFormed(parsed.msg)) ?? "" : "",
    line: line.trimEnd(),
  };
}

/** Publishes one batch (the admin link's `send`). */
export type SyslogSend = (lines: SyslogLine[]) => Promise<void>;

/** Options for {@link createSyslogShipper}. */
export interface SyslogShipperOptions {
  node: string;
  /** Lines held at most (before and after the link is up); more are dropped and counted. */
  capacity?: number;
  /** Largest request body the admin node accepts; batches are split below it. */
  maxBodyBytes: number;
  flushMs?: number;
  onError?: (error: unknown, info: { size: number; attempt: number; dropped: boolean }) => void;
}

/** Collects warn+ lines from the logger's tap and ships them once attached. */
export interface SyslogShipper {
  /** The logger tap. */
  tap(line: string): void;
  /** Starts shipping through `send`, the buffered lines first. */
  attach(send: SyslogSend): void;
  /** Ships what is buffered, giving up after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
  stats(): BatchWriterStats;
}

/** Creates a shipper; nothing is sent until `attach`. */
export function createSyslogShipper(options: SyslogShipperOptions): SyslogShipper {
  const capacity = options.capacity ?? 2000;
  let pending: SyslogLine[] = [];
  let earlyDropped = 0;
  let writer: BatchWriter<SyslogLine> | undefined;
  const prefix = crypto.randomUUID().slice(0, 18);
  let seq = 0;
  return {
    tap(line) {
      const entry = toSyslogLine(line, options.node, `${prefix}-${(seq++).toString(36)}`);
      if (!entry) return;
      if (writer) writer.push(entry);
      else if (pending.length < capacity) pending.push(entry);
      else earlyDropped++;
    },
    attach(send) {
      writer = createBatchWriter<SyslogLine>({
        async write(lines) {
          for (const batch of splitBySize(lines, options.maxBodyBytes)) await send(batch);
        },
        batchSize: 100,
        flushMs: options.flushMs ?? 1000,
        capacity,
        onError: options.onError,
      });
      for (const entry of pending) writer.push(entry);
      pending = [];
    },
    async close(timeoutMs) {
      await writer?.close(timeoutMs);
    },
    stats() {
      const s = writer?.stats() ??
        { buffered: pending.length, written: 0, dropped: 0, failures: 0, batches: 0 };
      return { ...s, dropped: s.dropped + earlyDropped };
    },
  };
}
