/**
 * A guard on the bytes a connection reads, in front of amqplib: a message's
 * header frame larger than {@link MAX_HEADER_FRAME} bytes reaches amqplib with
 * its headers table replaced by one entry, {@link HEADERS_DROPPED}, saying how
 * large it was. amqplib decodes a table recursively and overflows its stack on
 * one nested a few thousand levels deep (about 30 KB, which RabbitMQ accepts
 * from any publisher); it reports that as a frame error, which closes the
 * whole connection, and the message, given back, closed every connection that
 * received it again: one message kept all of a queue's nodes off RabbitMQ.
 * BEDS believes headers only on its own copies, which carry a few small ones,
 * and never copies a publisher's: what is dropped is nothing it reads.
 *
 * Only the frame boundaries are followed (7 bytes of each frame's header);
 * frames pass through as they came, uncopied, but for such a header frame.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Header frames (a message's properties) past this many bytes have their headers dropped. */
export const MAX_HEADER_FRAME = 8192;
/** The one header left in their place: how many bytes the headers table had. */
export const HEADERS_DROPPED = "x-beds-headers-dropped";

const FRAME_HEADER_BYTES = 7;
const FRAME_END_BYTES = 1;
const TYPE_HEADER = 2;
const CLASS_BASIC = 60;
/** Property flags of the basic class, in the order the properties follow them. */
const CONTENT_TYPE = 0x8000;
const CONTENT_ENCODING = 0x4000;
const HEADERS = 0x2000;
/** Where the property flags are in a header frame's payload: class, weight, body size first. */
const FLAGS_AT = 12;

/** Follows the frames of one connection's incoming bytes, from a frame boundary. */
export interface FrameGuard {
  /** The bytes to give amqplib for `chunk`: null while all of it is an incomplete frame, held. */
  filter(chunk: Buffer): Buffer | null;
}

/** A guard starting at a frame boundary. */
export function createFrameGuard(limit = MAX_HEADER_FRAME): FrameGuard {
  // Bytes of the frame being passed on that are still to come.
  let passing = 0;
  // The whole size of a header frame held until complete (0: none).
  let holding = 0;
  // Bytes held back: the start of a frame's header, or a held frame so far.
  let held: Buffer | undefined;

  return {
    filter(chunk) {
      const buf = held ? Buffer.concat([held, chunk]) : chunk;
      held = undefined;
      const pieces: Buffer[] = [];
      let rewritten = false;
      let at = 0;
      while (at < buf.length) {
        if (passing > 0) {
          const n = Math.min(passing, buf.length - at);
          pieces.push(buf.subarray(at, at + n));
          at += n;
          passing -= n;
        } else if (holding > 0) {
          if (buf.length - at < holding) break;
          pieces.push(withoutHeaders(buf.subarray(at, at + holding)));
          rewritten = true;
          at += holding;
          holding = 0;
        } else {
          if (buf.length - at < FRAME_HEADER_BYTES) break;
          const size = FRAME_HEADER_BYTES + buf.readUInt32BE(at + 3) + FRAME_END_BYTES;
          if (buf[at] === TYPE_HEADER && size > limit) holding = size;
          else passing = size;
        }
      }
      // A copy: the socket's chunk may be reused once read.
      if (at < buf.length) held = Buffer.from(buf.subarray(at));
      if (at === 0) return null;
      // Nothing rewritten: what passes is the start of `buf`, as it came.
      return rewritten ? Buffer.concat(pieces) : buf.subarray(0, at);
    },
  };
}

/**
 * A basic header frame with its headers table replaced by `{HEADERS_DROPPED: "<n> bytes"}`; any
 * other frame, or one whose properties do not read as the protocol lays them out, as it is (amqplib
 * then fails on it as it would have).
 */
export function withoutHeaders(frame: Buffer): Buffer {
  const payload = frame.subarray(FRAME_HEADER_BYTES, frame.length - FRAME_END_BYTES);
  if (payload.length < FLAGS_AT + 2 || payload.readUInt16BE(0) !== CLASS_BASIC) return frame;
  const flags = payload.readUInt16BE(FLAGS_AT);
  if (!(flags & HEADERS)) return frame;
  let at = FLAGS_AT + 2;
  for (const flag of [CONTENT_TYPE, CONTENT_ENCODING]) {
    if (flags & flag) at += 1 + (payload[at] ?? 0);
  }
  if (at + 4 > payload.length) return frame;
  const tableEnd = at + 4 + payload.readUInt32BE(at);
  if (tableEnd > payload.length) return frame;
  const table = markerTable(`${tableEnd - at - 4} bytes`);
  const rest = payload.subarray(tableEnd);
  const size = at + table.length + rest.length;
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  frame.copy(head, 0, 0, 3); // type and channel
  head.writeUInt32BE(size, 3);
  return Buffer.concat([head, payload.subarray(0, at), table, rest, frame.subarray(frame.length - 1)]);
}

/** A field table of one long-string entry, {@link HEADERS_DROPPED}: `value`. */
function markerTable(value: string): Buffer {
  const name = Buffer.from(HEADERS_DROPPED);
  const text = Buffer.from(value);
  const entries = Buffer.alloc(1 + name.length + 1 + 4 + text.length);
  let at = entries.writeUInt8(name.length, 0);
  at += name.copy(entries, at);
  at = entries.writeUInt8(0x53, at); // "S": a long string
  at = entries.writeUInt32BE(text.length, at);
  text.copy(entries, at);
  const table = Buffer.alloc(4 + entries.length);
  table.writeUInt32BE(entries.length, 0);
  entries.copy(table, 4);
  return table;
}

/** The parts of amqplib's internals the guard touches (amqplib 2.3.1, `lib/connection.js`). */
interface ConnectionInternals {
  stream?: { read?: (size?: number) => Buffer | null } & { framesGuarded?: true };
  rest?: Uint8Array;
}

/**
 * Puts a {@link FrameGuard} between a connection's socket and amqplib, which reads it with
 * `stream.read()` and parses what it gets. Only at a frame boundary: right after the connection
 * opened, before any channel, amqplib holds no part of a frame. False (nothing changed) when
 * amqplib's internals are not as expected; `tests/integration/amqp_frame_guard_test.ts` fails if
 * the guard stops applying to the pinned amqplib.
 */
export function guardIncomingFrames(model: object): boolean {
  const connection = (model as { connection?: ConnectionInternals }).connection;
  const stream = connection?.stream;
  if (!stream || typeof stream.read !== "function" || connection.rest?.length !== 0) return false;
  if (stream.framesGuarded) return true;
  const guard = createFrameGuard();
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => {
    const chunk = read(size);
    return chunk === null ? null : guard.filter(chunk);
  };
  stream.framesGuarded = true;
  return true;
}

/** Whether {@link guardIncomingFrames} is in place on `model`. */
export function framesGuarded(model: object): boolean {
  return (model as { connection?: ConnectionInternals }).connection?.stream?.framesGuarded === true;
}
