/**
 * Publishes one message with properties written byte by byte, over a raw
 * AMQP 0-9-1 connection: what amqplib refuses to encode (a headers table
 * nested thousands of levels deep overflows its encoder's stack) but
 * RabbitMQ accepts and delivers, as any other client library could send it.
 *
 * @module
 */
import { Buffer } from "node:buffer";

const FRAME_END = 0xce;

function shortStr(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function longStr(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** One AMQP frame: type, channel, payload size, the payload, the frame end. */
export function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}

function method(channel: number, classId: number, methodId: number, args: Buffer): Buffer {
  const ids = Buffer.alloc(4);
  ids.writeUInt16BE(classId, 0);
  ids.writeUInt16BE(methodId, 2);
  return frame(1, channel, Buffer.concat([ids, args]));
}

/** A headers table `{a: [[[…]]]}`, the array nested `depth` levels deep. */
export function deepHeaders(depth: number): Buffer {
  let value = Buffer.concat([Buffer.from("A"), longStr(Buffer.alloc(0))]);
  for (let i = 1; i < depth; i++) value = Buffer.concat([Buffer.from("A"), longStr(value)]);
  return longStr(Buffer.concat([shortStr("a"), value]));
}

/** Reads frames off a connection, one at a time. */
function frameReader(conn: Deno.Conn) {
  let buffer = Buffer.alloc(0);
  return async (): Promise<{ type: number; classId: number; methodId: number }> => {
    for (;;) {
      if (buffer.length >= 7) {
        const size = buffer.readUInt32BE(3);
        if (buffer.length >= size + 8) {
          const type = buffer[0]!;
          const payload = buffer.subarray(7, 7 + size);
          buffer = buffer.subarray(size + 8);
          return {
            type,
            classId: type === 1 ? payload.readUInt16BE(0) : 0,
            methodId: type === 1 ? payload.readUInt16BE(2) : 0,
          };
        }
      }
      const chunk = new Uint8Array(65536);
      const n = await conn.read(chunk);
      if (n === null) throw new Error("RabbitMQ closed the connection");
      buffer = Buffer.concat([buffer, chunk.subarray(0, n)]);
    }
  };
}

/** Options for {@link publishRaw}. */
export interface RawPublish {
  exchange: string;
  routingKey: string;
  body: string;
  /** The encoded headers table (4-byte length first), e.g. {@link deepHeaders}. */
  headers: Buffer;
  user?: string;
  password?: string;
}

/** Publishes one message as guest to 127.0.0.1:5672, and returns once RabbitMQ has processed it. */
export async function publishRaw(options: RawPublish): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: 5672 });
  const next = frameReader(conn);
  const expect = async (classId: number, methodId: number) => {
    const got = await next();
    if (got.classId !== classId || got.methodId !== methodId) {
      throw new Error(`expected method ${classId}.${methodId}, got ${got.classId}.${got.methodId}`);
    }
  };
  try {
    await conn.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1"));
    await expect(10, 10); // connection.start
    const login = Buffer.from(`\0${options.user ?? "guest"}\0${options.password ?? "guest"}`);
    await conn.write(
      method(
        0,
        10,
        11,
        Buffer.concat([longStr(Buffer.alloc(0)), shortStr("PLAIN"), longStr(login), shortStr("en_US")]),
      ),
    );
    await expect(10, 30); // connection.tune
    const tune = Buffer.alloc(8);
    tune.writeUInt16BE(1, 0); // channel-max
    tune.writeUInt32BE(131072, 2); // frame-max
    tune.writeUInt16BE(0, 6); // no heartbeat
    await conn.write(method(0, 10, 31, tune));
    await conn.write(method(0, 10, 40, Buffer.concat([shortStr("/"), shortStr(""), Buffer.from([0])])));
    await expect(10, 41); // connection.open-ok
    await conn.write(method(1, 20, 10, shortStr("")));
    await expect(20, 11); // channel.open-ok
    const body = Buffer.from(options.body);
    await conn.write(
      method(
        1,
        60,
        40,
        Buffer.concat([
          Buffer.alloc(2),
          shortStr(options.exchange),
          shortStr(options.routingKey),
          Buffer.from([0]),
        ]),
      ),
    );
    const header = Buffer.alloc(14);
    header.writeUInt16BE(60, 0); // class basic
    header.writeBigUInt64BE(BigInt(body.length), 4);
    header.writeUInt16BE(0x8000 | 0x2000, 12); // content-type and headers
    await conn.write(frame(2, 1, Buffer.concat([header, shortStr("application/json"), options.headers])));
    await conn.write(frame(3, 1, body));
    // Its close is answered once the publish before it has been processed.
    await conn.write(method(1, 20, 40, Buffer.concat([Buffer.alloc(2), shortStr(""), Buffer.alloc(4)])));
    await expect(20, 41);
  } finally {
    conn.close();
  }
}

/**
 * What a frame guard passes on of `stream` fed in pieces cut at `cuts` (byte offsets), joined: the
 * same whatever the cuts, for a guard that follows frames across socket reads.
 */
export function filteredInPieces(
  guard: { filter(chunk: Buffer): Buffer | null },
  stream: Buffer,
  cuts: readonly number[],
): Buffer {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...[...new Set(cuts)].sort((a, b) => a - b), stream.length]) {
    if (to <= from) continue;
    const passed = guard.filter(stream.subarray(from, to));
    if (passed) out.push(passed);
    from = to;
  }
  return Buffer.concat(out);
}
