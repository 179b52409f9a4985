/**
 * A guard on the bytes a connection reads, in front of amqplib, for what
 * amqplib cannot be given as RabbitMQ delivers it:
 *
 * - A message's header frame larger than {@link MAX_HEADER_FRAME} bytes
 *   reaches amqplib with its headers table replaced by one entry,
 *   {@link HEADERS_DROPPED}, saying how large it was. amqplib decodes a table
 *   recursively and overflows its stack on one nested a few thousand levels
 *   deep (about 30 KB, which RabbitMQ accepts from any publisher); it reports
 *   that as a frame error, which closes the whole connection, and the message,
 *   given back, closed every connection that received it again: one message
 *   kept all of a queue's nodes off RabbitMQ.
 * - With `maxBodyBytes`, a message whose header frame announces a larger body
 *   reaches amqplib with only the first `maxBodyBytes` of it, the rest of its
 *   body frames dropped as they arrive, and its headers table replaced by the
 *   guard's mark naming the size it was published with ({@link bodyCutFrom}).
 *   amqplib assembles a whole body in memory before handing it on, and RabbitMQ
 *   takes bodies up to its `max_message_size` (128 MiB on 3.x) from anyone who
 *   may publish: a few dozen of them took a node's memory, for a request the
 *   node would only refuse as too large.
 *
 * BEDS believes headers only on its own copies, which carry a few small ones,
 * and never copies a publisher's: what is dropped is nothing it reads.
 *
 * Only the frame boundaries are followed (7 bytes of each frame's header, and
 * a header frame's body size); frames pass through as they came, uncopied, but
 * for the frames of such messages.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  BODY_SIZE_AT,
  cutHeader,
  FRAME_END_BYTES,
  FRAME_HEADER_BYTES,
  withoutHeaders,
} from "./header_frame.ts";

export { bodyCutFrom, HEADERS_DROPPED, withoutHeaders } from "./header_frame.ts";

/** Header frames (a message's properties) past this many bytes have their headers dropped. */
export const MAX_HEADER_FRAME = 8192;

const TYPE_HEADER = 2;
const TYPE_BODY = 3;
/** Bytes of a header frame needed to read its body size. */
const BODY_SIZE_END = FRAME_HEADER_BYTES + BODY_SIZE_AT + 8;
const FRAME_END = Buffer.from([0xce]);

/** Options for {@link createFrameGuard}. */
export interface FrameGuardOptions {
  /** Header frames past this many bytes have their headers table dropped. @default MAX_HEADER_FRAME */
  headerLimit?: number;
  /** Bodies past this many bytes are cut to their first `maxBodyBytes`. @default no limit */
  maxBodyBytes?: number;
}

/** Follows the frames of one connection's incoming bytes, from a frame boundary. */
export interface FrameGuard {
  /** The bytes to give amqplib for `chunk`: null while none of it is to be passed on yet. */
  filter(chunk: Buffer): Buffer | null;
}

/** A message body being cut on one channel: bytes still to pass, and still to come in all. */
interface Cut {
  keep: number;
  left: number;
}

/** A guard starting at a frame boundary. */
export function createFrameGuard(options: FrameGuardOptions = {}): FrameGuard {
  const headerLimit = options.headerLimit ?? MAX_HEADER_FRAME;
  const maxBody = options.maxBodyBytes;
  // Bytes of the frame being passed on, or dropped, that are still to come.
  let passing = 0;
  let dropping = 0;
  // The whole size of a frame held until complete, to be rewritten (0: none).
  let holding = 0;
  let rewrite: (frame: Buffer) => Buffer = withoutHeaders;
  // Bytes held back: the start of a frame's header, or a held frame so far.
  let held: Buffer | undefined;
  // Bodies being cut, by channel (frames of other channels may come between a body's frames).
  const cuts = new Map<number, Cut>();

  /** Decides what becomes of the frame starting at `at`; false when more of it is needed first. */
  const start = (buf: Buffer, at: number): boolean => {
    if (buf.length - at < FRAME_HEADER_BYTES) return false;
    const type = buf[at];
    const payload = buf.readUInt32BE(at + 3);
    const size = FRAME_HEADER_BYTES + payload + FRAME_END_BYTES;
    if (type === TYPE_HEADER) {
      if (maxBody !== undefined && payload >= BODY_SIZE_AT + 8) {
        if (buf.length - at < BODY_SIZE_END) return false;
        const body = buf.readUInt32BE(at + FRAME_HEADER_BYTES + BODY_SIZE_AT) * 2 ** 32 +
          buf.readUInt32BE(at + FRAME_HEADER_BYTES + BODY_SIZE_AT + 4);
        if (body > maxBody) {
          cuts.set(buf.readUInt16BE(at + 1), { keep: maxBody, left: body });
          holding = size;
          rewrite = (frame) => cutHeader(frame, body, maxBody);
          return true;
        }
        if (cuts.size) cuts.delete(buf.readUInt16BE(at + 1));
      }
      if (size > headerLimit) {
        holding = size;
        rewrite = withoutHeaders;
      } else passing = size;
      return true;
    }
    const cut = type === TYPE_BODY && cuts.size ? cuts.get(buf.readUInt16BE(at + 1)) : undefined;
    if (!cut) {
      passing = size;
      return true;
    }
    cut.left -= payload;
    if (cut.left <= 0) cuts.delete(buf.readUInt16BE(at + 1));
    if (payload <= cut.keep) {
      cut.keep -= payload;
      passing = size;
    } else if (cut.keep === 0) {
      dropping = size;
    } else {
      const keep = cut.keep;
      cut.keep = 0;
      holding = size;
      rewrite = (frame) => cutBody(frame, keep);
    }
    return true;
  };

  return {
    filter(chunk) {
      const buf = held ? Buffer.concat([held, chunk]) : chunk;
      held = undefined;
      // What passes: `buf` from `from` to `at` as it came, after `pieces` (made only once a frame
      // is rewritten or dropped: a chunk of whole small frames passes as one view of itself).
      const pieces: Buffer[] = [];
      let changed = false;
      let from = 0;
      let at = 0;
      while (at < buf.length) {
        if (passing > 0) {
          const n = Math.min(passing, buf.length - at);
          at += n;
          passing -= n;
        } else if (dropping > 0) {
          if (at > from) pieces.push(buf.subarray(from, at));
          const n = Math.min(dropping, buf.length - at);
          at += n;
          dropping -= n;
          from = at;
          changed = true;
        } else if (holding > 0) {
          if (buf.length - at < holding) break;
          if (at > from) pieces.push(buf.subarray(from, at));
          pieces.push(rewrite(buf.subarray(at, at + holding)));
          at += holding;
          from = at;
          holding = 0;
          changed = true;
        } else if (!start(buf, at)) break;
      }
      // A copy: the socket's chunk may be reused once read.
      if (at < buf.length) held = Buffer.from(buf.subarray(at));
      if (!changed) return at === 0 ? null : at === buf.length ? buf : buf.subarray(0, at);
      if (at > from) pieces.push(buf.subarray(from, at));
      if (!pieces.length) return null;
      return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    },
  };
}

/** A body frame with only the first `keep` bytes of its payload. */
function cutBody(frame: Buffer, keep: number): Buffer {
  const head = Buffer.from(frame.subarray(0, FRAME_HEADER_BYTES));
  head.writeUInt32BE(keep, 3);
  return Buffer.concat([head, frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + keep), FRAME_END]);
}

/** The parts of amqplib's internals the guard touches (amqplib 2.3.1, `lib/connection.js`). */
interface ConnectionInternals {
  stream?: { read?: (size?: number) => Buffer | null } & { framesGuarded?: true };
  rest?: Uint8Array;
}

/** Handed to amqplib for bytes read that pass nothing on (yet): it counts them as heard from RabbitMQ. */
const NOTHING = Buffer.alloc(0);

/**
 * Puts a {@link FrameGuard} between a connection's socket and amqplib, which reads it with
 * `stream.read()` and parses what it gets. Only at a frame boundary: right after the connection
 * opened, before any channel, amqplib holds no part of a frame. False (nothing changed) when
 * amqplib's internals are not as expected; `tests/integration/amqp_frame_guard_test.ts` fails if
 * the guard stops applying to the pinned amqplib.
 *
 * Bytes read that pass nothing on are handed on as an empty chunk, not as null (nothing read):
 * amqplib's heartbeat check counts only what `read()` returns, and a large body dropped over a slow
 * link would otherwise look like a silent server and close the connection.
 */
export function guardIncomingFrames(model: object, options: FrameGuardOptions = {}): boolean {
  const connection = (model as { connection?: ConnectionInternals }).connection;
  const stream = connection?.stream;
  if (!stream || typeof stream.read !== "function" || connection.rest?.length !== 0) return false;
  if (stream.framesGuarded) return true;
  const guard = createFrameGuard(options);
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => {
    const chunk = read(size);
    return chunk === null ? null : guard.filter(chunk) ?? NOTHING;
  };
  stream.framesGuarded = true;
  return true;
}

/** Whether {@link guardIncomingFrames} is in place on `model`. */
export function framesGuarded(model: object): boolean {
  return (model as { connection?: ConnectionInternals }).connection?.stream?.framesGuarded === true;
}
