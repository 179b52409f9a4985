/**
 * Pure mapping between node events and log store records: which events are
 * recorded (sampling), their level, and the flat record the `mst` template
 * stores and returns.
 *
 * @module
 */
import { clip, clipText, TEXT_LIMITS, wellFormed } from "./text.ts";
import type { LogEvent } from "./events.ts";
import { sqlTime } from "./sql_time.ts";

/** Severity of a record, for filtering. */
export type LogLevel = "info" | "warn" | "error";

/** One log store record, as written (field names of the `mst` template). */
export interface LogRow {
  event: string;
  parent: string | null;
  /** First segment of `event`: the chain the record belongs to. */
  root: string;
  kind: LogEvent["kind"];
  level: LogLevel;
  /** UTC time as `YYYY-MM-DD HH:MM:SS.mmm`. */
  at: string;
  node: string;
  broker: string | null;
  template: string | null;
  op: string | null;
  code: string | null;
  /** Request: reply, retry or dead_letter; status: its type; IPL: ok or failed. */
  action: string | null;
  attempt: number | null;
  ms: number | null;
  rows: number | null;
  message: string | null;
  /**
   * The event's fields that no column holds, as JSON text: a request's user, call, reason and
   * full message (when the column's differs), a status change's details, an IPL record's role,
   * env, steps and config digest. Each value is stored once.
   */
  doc: string;
  /** A fan-out's successful parts folded into this record (`[logstore] fold_parts`), stored in `doc`. */
  parts?: FoldedPart[];
}

/** A record read back from the store. */
export interface StoredEvent extends Omit<LogRow, "root" | "doc" | "parts"> {
  /** Store-assigned insertion order (the paging cursor), if the store has one. */
  id?: number;
  /** What no column holds (see {@link LogRow.doc}). */
  doc: Record<string, unknown>;
}

/** The level of an event: failures are errors, retries and unusual states warnings. */
export function levelOf(event: LogEvent): LogLevel {
  switch (event.kind) {
    case "request":
      if (event.action === "retry") return "warn";
      return event.code ? "error" : "info";
    case "status":
      return event.status.type === "connected" || event.status.type === "closed" ? "info" : "warn";
    case "ipl":
      if (!event.ok) return "error";
      return event.steps.some((s) => s.outcome === "warn") ? "warn" : "info";
  }
}

/**
 * Whether an event is recorded: successful requests are sampled at
 * `sampleRate` (0–1, `random()` in [0, 1)); errors, retries, dead letters,
 * IPL records and status changes always are, and so is the outcome of a
 * retried request (its retries were recorded: without it the chain ends in a retry).
 * The admin exchange's successful requests never are: each batch of records the
 * admin role stores, and each `beds logs --follow` poll, would be a record itself.
 */
export function shouldRecord(event: LogEvent, sampleRate: number, random: () => number): boolean {
  if (event.kind !== "request" || event.code || event.action !== "reply" || event.attempt > 1) return true;
  if (event.admin) return false;
  if (sampleRate >= 1) return true;
  return random() < sampleRate;
}

/** The first segment of an event id (`chainRoot` of protocol/, without importing a layer above). */
function rootOf(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : id.slice(0, dot);
}

/**
 * A record as the `mst` template's `log_rows` call takes it (`sp_mst_log_rows` in
 * lab/sql/005_logstore.sql): its values in column order, `root` left out. MariaDB spends about a
 * quarter less CPU per record finding values by position than by name (`log_batch`), and a fan-out
 * writes 25 records.
 */
export function batchTuple(row: LogRow): unknown[] {
  return [
    row.event,
    row.parent,
    row.kind,
    row.level,
    row.at,
    row.node,
    row.broker,
    row.template,
    row.op,
    row.code,
    row.action,
    row.attempt,
    row.ms,
    row.rows,
    row.message,
    docText(row),
  ];
}

/**
 * Turns an event (with its id) into the record the store keeps: columns, and
 * in `doc` only what no column holds. Unfolded, a fan-out records one row per
 * part, and the store spends its time on the record's size: a request's doc
 * is about 16 bytes instead of 300, which cut MariaDB's CPU per record by
 * about 30 % (lab/README.md).
 */
export function toLogRow(event: LogEvent, id: string): LogRow {
  const at = sqlTime(event.at);
  switch (event.kind) {
    case "request": {
      // Text a client chose (a template or call name, a field name an error echoes, its user) may
      // hold a lone surrogate, which JSON carries as an escape MariaDB refuses: one such record
      // would fail its whole batch. And it may be as long as a request body: each is clipped here,
      // where the record is built, so no record (and no batch of them) grows with what a client sent.
      const full = wellFormed(event.message);
      const message = clip(event.reason && full ? `${full} (${event.reason})` : full);
      return {
        event: id,
        parent: event.parent ?? null,
        root: rootOf(id),
        kind: "request",
        level: levelOf(event),
        at,
        node: event.node,
        broker: event.broker,
        template: clipped(event.template, TEXT_LIMITS.template),
        op: clipped(opOf(event) ?? undefined, TEXT_LIMITS.name),
        code: event.code ?? null,
        action: event.action,
        attempt: event.attempt,
        ms: event.ms,
        rows: event.rows,
        message,
        doc: JSON.stringify({
          user: clipped(event.user, TEXT_LIMITS.detail) ?? undefined,
          call: clipped(event.call, TEXT_LIMITS.name) ?? undefined,
          reason: clipped(event.reason, TEXT_LIMITS.detail) ?? undefined,
          message: full === undefined || message === full
            ? undefined
            : clipText(full, TEXT_LIMITS.fullMessage),
        }),
      };
    }
    case "status":
      return {
        event: id,
        parent: null,
        root: rootOf(id),
        kind: "status",
        level: levelOf(event),
        at,
        node: event.node,
        broker: null,
        template: null,
        op: null,
        code: null,
        action: event.status.type,
        attempt: null,
        ms: null,
        rows: null,
        message: clip(statusMessage(event.status)),
        doc: JSON.stringify({ status: event.status }),
      };
    case "ipl":
      return {
        event: id,
        parent: null,
        root: rootOf(id),
        kind: "ipl",
        level: levelOf(event),
        at,
        node: event.node,
        broker: null,
        template: null,
        op: null,
        code: null,
        action: event.ok ? "ok" : "failed",
        attempt: null,
        ms: event.ms,
        rows: null,
        message: clip(
          `${event.role} ${event.env}: ${event.steps.length} steps, config ${
            event.configDigest.slice(0, 12)
          }`,
        ),
        doc: JSON.stringify({
          role: event.role,
          env: event.env,
          steps: event.steps,
          configDigest: event.configDigest,
        }),
      };
  }
}

/** Text a client may have chosen, well-formed and at most `max` UTF-16 units; null when absent. */
function clipped(text: string | undefined, max: number): string | null {
  return text === undefined ? null : clipText(wellFormed(text)!, max);
}

function statusMessage(status: { type: string } & Record<string, unknown>): string | undefined {
  const rest = Object.entries(status).filter(([k]) => k !== "type");
  return rest.length
    ? rest.map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
    : undefined;
}

/** A stored value as text, or null. */
export function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A stored value as a finite number, or null. */
export function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Reads one raw record of the store (a MariaDB row or a MongoDB document) back. */
export function fromStoredRow(raw: Record<string, unknown>): StoredEvent {
  let doc: Record<string, unknown> = {};
  if (typeof raw.doc === "string") {
    try {
      doc = JSON.parse(raw.doc);
    } catch {
      doc = { unreadable: raw.doc };
    }
  } else if (typeof raw.doc === "object" && raw.doc !== null) {
    doc = raw.doc as Record<string, unknown>;
  }
  const at = raw.at instanceof Date ? raw.at.toISOString() : textOrNull(raw.at) ?? "";
  const id = numberOrNull(raw.id);
  return {
    ...(id === null ? {} : { id }),
    event: String(raw.event ?? ""),
    parent: textOrNull(raw.parent),
    kind: String(raw.kind ?? "request") as LogEvent["kind"],
    level: String(raw.level ?? "info") as LogLevel,
    at: at.includes("T") ? at : `${at.replace(" ", "T")}Z`,
    node: String(raw.node ?? ""),
    broker: textOrNull(raw.broker),
    template: textOrNull(raw.template),
    op: textOrNull(raw.op),
    code: textOrNull(raw.code),
    action: textOrNull(raw.action),
    attempt: numberOrNull(raw.attempt),
    ms: numberOrNull(raw.ms),
    rows: numberOrNull(raw.rows ?? raw.nrows),
    message: textOrNull(raw.message),
    doc,
  };
}

/**
 * A fan-out part folded into its parent's record (`[logstore] fold_parts`): the parent's `doc`
 * gets `parts`, one `[n, template, op, call, ms, rows]` per successful part `<parent>.<n>`. The
 * part shares everything else with its parent (time, node, broker, attempt), so one record holds
 * what 25 would: a store spends its time per record, not per byte (lab/README.md).
 */
export type FoldedPart = [
  n: string,
  template: string | null,
  op: string | null,
  call: string | null,
  ms: number | null,
  rows: number | null,
];

/** A request's `op` column: the op, or `op:call` for a call. */
export function opOf(event: { op?: string; call?: string }): string | null {
  return event.call ? `${event.op ?? "call"}:${event.call}` : event.op ?? null;
}

/**
 * About how much a record holds while it waits to be written, in UTF-16 units: its texts that
 * may be long (message, doc, folded parts) and a share for the rest. Lengths only: it is taken
 * for every record.
 */
export function rowSize(row: LogRow): number {
  return 256 + row.event.length + (row.message?.length ?? 0) + row.doc.length + (row.parts?.length ?? 0) * 64;
}

/** The `doc` a record is stored with: its own, with its folded parts if it has any. */
export function docText(row: LogRow): string {
  if (!row.parts?.length) return row.doc;
  const parts = JSON.stringify(row.parts);
  return row.doc === "{}" ? `{"parts":${parts}}` : `${row.doc.slice(0, -1)},"parts":${parts}}`;
}
