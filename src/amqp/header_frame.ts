/**
 * Rewrites of one basic content header frame (a message's properties and body size), byte by
 * byte, for the frame guard (`frame_guard.ts`): its headers table dropped when it is too
 * large for amqplib to decode, or replaced by the guard's mark when the body is cut short.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** The one header left in place of a dropped table: how many bytes the headers table had. */
export const HEADERS_DROPPED = "x-beds-headers-dropped";

/**
 * The header the frame guard puts on a message whose body it cut short: the size the body was
 * published with. A publisher's headers reach the node as they were sent, so the name ends in a
 * word drawn at random once per process: no publisher can name it, to make a small body look cut
 * short, nor hide a cut (the guard replaces the whole table of a message it cuts).
 */
const BODY_CUT = `x-beds-body-cut-${crypto.randomUUID()}`;

/** A frame's own header (type, channel, payload size) and its end byte. */
export const FRAME_HEADER_BYTES = 7;
export const FRAME_END_BYTES = 1;
const CLASS_BASIC = 60;
/** Where the body size is in a header frame's payload (after class and weight), 8 bytes. */
export const BODY_SIZE_AT = 4;
/** Property flags of the basic class, in the order the properties follow them. */
const CONTENT_TYPE = 0x8000;
const CONTENT_ENCODING = 0x4000;
const HEADERS = 0x2000;
/** Where the property flags are in a header frame's payload: class, weight, body size first. */
const FLAGS_AT = 12;

/** Where a basic header frame's headers table is in its payload (`end === start`: it has none). */
interface TablePlace {
  flags: number;
  start: number;
  end: number;
}

/** The headers table's place in `payload`, or undefined when the properties do not read as the protocol lays them out. */
function tablePlace(payload: Buffer): TablePlace | undefined {
  if (payload.length < FLAGS_AT + 2 || payload.readUInt16BE(0) !== CLASS_BASIC) return undefined;
  const flags = payload.readUInt16BE(FLAGS_AT);
  let at = FLAGS_AT + 2;
  for (const flag of [CONTENT_TYPE, CONTENT_ENCODING]) {
    if (flags & flag) at += 1 + (payload[at] ?? 0);
  }
  if (!(flags & HEADERS)) return at > payload.length ? undefined : { flags, start: at, end: at };
  if (at + 4 > payload.length) return undefined;
  const end = at + 4 + payload.readUInt32BE(at);
  return end > payload.length ? undefined : { flags, start: at, end };
}

/** `frame` with `table` in its headers' place and its body size set to `bodySize` (when given). */
function rebuilt(frame: Buffer, place: TablePlace, table: Buffer, bodySize?: number): Buffer {
  const payload = frame.subarray(FRAME_HEADER_BYTES, frame.length - FRAME_END_BYTES);
  const before = Buffer.from(payload.subarray(0, place.start));
  before.writeUInt16BE(place.flags | HEADERS, FLAGS_AT);
  if (bodySize !== undefined) writeBodySize(before, bodySize);
  const rest = payload.subarray(place.end);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  frame.copy(head, 0, 0, 3); // type and channel
  head.writeUInt32BE(before.length + table.length + rest.length, 3);
  return Buffer.concat([head, before, table, rest, frame.subarray(frame.length - FRAME_END_BYTES)]);
}

function writeBodySize(payload: Buffer, size: number): void {
  payload.writeUInt32BE(Math.floor(size / 2 ** 32), BODY_SIZE_AT);
  payload.writeUInt32BE(size % 2 ** 32, BODY_SIZE_AT + 4);
}

/**
 * A basic header frame with its headers table replaced by `{HEADERS_DROPPED: "<n> bytes"}`; any
 * other frame, or one whose properties do not read as the protocol lays them out, as it is (amqplib
 * then fails on it as it would have).
 */
export function withoutHeaders(frame: Buffer): Buffer {
  const place = tablePlace(frame.subarray(FRAME_HEADER_BYTES, frame.length - FRAME_END_BYTES));
  if (!place || place.end === place.start) return frame;
  return rebuilt(frame, place, markerTable(HEADERS_DROPPED, `${place.end - place.start - 4} bytes`));
}

/**
 * A basic header frame announcing `keep` bytes of body instead of `size`, its headers table (if
 * any) replaced by the guard's mark naming `size` ({@link bodyCutFrom}). One whose properties do
 * not read as the protocol lays them out gets the new body size only (amqplib then fails on it as
 * it would have, but never waits for body it will not get).
 */
export function cutHeader(frame: Buffer, size: number, keep: number): Buffer {
  const place = tablePlace(frame.subarray(FRAME_HEADER_BYTES, frame.length - FRAME_END_BYTES));
  if (place) return rebuilt(frame, place, markerTable(BODY_CUT, String(size)), keep);
  const copy = Buffer.from(frame);
  if (copy.length >= FRAME_HEADER_BYTES + BODY_SIZE_AT + 8) {
    writeBodySize(copy.subarray(FRAME_HEADER_BYTES), keep);
  }
  return copy;
}

/**
 * The size a message's body was published with when the frame guard kept only its start
 * ({@link cutHeader}), else undefined. Only the guard can set it: see {@link BODY_CUT}.
 */
export function bodyCutFrom(headers: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const value = headers?.[BODY_CUT];
  return typeof value === "string" ? Number(value) : undefined;
}

/** A field table of one long-string entry, `name`: `value`. */
function markerTable(name: string, value: string): Buffer {
  const key = Buffer.from(name);
  const text = Buffer.from(value);
  const entries = Buffer.alloc(1 + key.length + 1 + 4 + text.length);
  let at = entries.writeUInt8(key.length, 0);
  at += key.copy(entries, at);
  at = entries.writeUInt8(0x53, at); // "S": a long string
  at = entries.writeUInt32BE(text.length, at);
  text.copy(entries, at);
  const table = Buffer.alloc(4 + entries.length);
  table.writeUInt32BE(entries.length, 0);
  entries.copy(table, 4);
  return table;
}
