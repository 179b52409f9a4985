/**
 * The frame guard's body limit: a body past it reaches amqplib as its first `maxBodyBytes`, its
 * header frame saying so, whatever the chunks the bytes arrive in; and a request so cut is judged
 * on the size it was published with.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { bodyCutFrom, createFrameGuard, guardIncomingFrames } from "../../src/amqp/frame_guard.ts";
import { cutHeader } from "../../src/amqp/header_frame.ts";
import { decodeRequest } from "../../src/protocol/mod.ts";
import { BedsError } from "../../src/errors.ts";
import { filteredInPieces, frame as rawFrame } from "../helpers/raw_amqp.ts";

const frame = (type: number, payload: Buffer, channel = 1) => rawFrame(type, channel, payload);

/** A header frame with a content type, `headers` (an encoded table, if any) and a correlation id. */
function headerFrame(bodySize: number, channel = 1, headers?: Buffer): Buffer {
  const fixed = Buffer.alloc(14);
  fixed.writeUInt16BE(60, 0);
  fixed.writeBigUInt64BE(BigInt(bodySize), 4);
  fixed.writeUInt16BE(0x8000 | (headers ? 0x2000 : 0) | 0x0400, 12);
  const type = Buffer.concat([Buffer.from([16]), Buffer.from("application/json")]);
  const correlation = Buffer.concat([Buffer.from([3]), Buffer.from("c-1")]);
  return frame(2, Buffer.concat([fixed, type, ...(headers ? [headers] : []), correlation]), channel);
}

/** `{name: "value"}` as an AMQP field table. */
function table(name: string, value: string): Buffer {
  const entry = Buffer.concat([
    Buffer.from([name.length]),
    Buffer.from(name),
    Buffer.from("S"),
    Buffer.alloc(4),
    Buffer.from(value),
  ]);
  entry.writeUInt32BE(value.length, 1 + name.length + 1);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(entry.length);
  return Buffer.concat([size, entry]);
}

/** A minimal reading of header and body frames: what amqplib would assemble, per channel. */
function messages(
  stream: Buffer,
): Array<{ channel: number; size: number; body: string; frameEnds: boolean }> {
  const out: Array<{ channel: number; size: number; body: string; frameEnds: boolean }> = [];
  const open = new Map<number, (typeof out)[number]>();
  for (let at = 0; at < stream.length;) {
    const type = stream[at]!;
    const channel = stream.readUInt16BE(at + 1);
    const size = stream.readUInt32BE(at + 3);
    const payload = stream.subarray(at + 7, at + 7 + size);
    const frameEnds = stream[at + 7 + size] === 0xce;
    if (type === 2) {
      const message = { channel, size: Number(payload.readBigUInt64BE(4)), body: "", frameEnds };
      out.push(message);
      open.set(channel, message);
    } else if (type === 3) {
      const message = open.get(channel)!;
      message.body += payload.toString("latin1");
      message.frameEnds &&= frameEnds;
    }
    at += 8 + size;
  }
  return out;
}

const method = (channel = 1) => frame(1, Buffer.from([0, 60, 0, 60, 1, 2, 3]), channel);

Deno.test("the frame guard cuts a body past maxBodyBytes to its first maxBodyBytes, however the bytes are split", () => {
  // Channel 1: a body of 26 bytes in frames of 10, 10 and 6, cut at 12; channel 2's small message
  // comes between its frames; then a small one on channel 1 again, untouched.
  const stream = Buffer.concat([
    method(1),
    headerFrame(26, 1, table("x-beds-body-size", "3")),
    frame(3, Buffer.from("abcdefghij")),
    method(2),
    headerFrame(4, 2),
    frame(3, Buffer.from("wxyz"), 2),
    frame(3, Buffer.from("klmnopqrst")),
    frame(3, Buffer.from("uvwxyz")),
    method(1),
    headerFrame(2, 1),
    frame(3, Buffer.from("{}")),
  ]);
  const expected = Buffer.concat([
    method(1),
    cutHeader(headerFrame(26, 1, table("x-beds-body-size", "3")), 26, 12),
    frame(3, Buffer.from("abcdefghij")),
    method(2),
    headerFrame(4, 2),
    frame(3, Buffer.from("wxyz"), 2),
    frame(3, Buffer.from("kl")),
    method(1),
    headerFrame(2, 1),
    frame(3, Buffer.from("{}")),
  ]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 12 }), (cuts) => {
      assert.deepEqual(filteredInPieces(createFrameGuard({ maxBodyBytes: 12 }), stream, cuts), expected);
    }),
  );
  assert.deepEqual(messages(expected), [
    { channel: 1, size: 12, body: "abcdefghijkl", frameEnds: true },
    { channel: 2, size: 4, body: "wxyz", frameEnds: true },
    { channel: 1, size: 2, body: "{}", frameEnds: true },
  ]);
});

Deno.test("the frame guard drops a large body's frames as they arrive, holding none of them", () => {
  const guard = createFrameGuard({ maxBodyBytes: 100 });
  const chunk = Buffer.alloc(65_536, 0x20);
  const bodyFrame = frame(3, chunk);
  const head = guard.filter(Buffer.concat([method(), headerFrame(64 * bodyFrame.length)]))!;
  assert.equal(messages(head)[0]!.size, 100);
  assert.equal(guard.filter(bodyFrame)!.length, 7 + 100 + 1, "the first frame, cut to 100 bytes");
  let passed = 0;
  for (let i = 1; i < 64; i++) {
    // Split mid-frame, as a socket would.
    passed += guard.filter(bodyFrame.subarray(0, 30_000))?.length ?? 0;
    passed += guard.filter(bodyFrame.subarray(30_000))?.length ?? 0;
  }
  assert.equal(passed, 0);
  const next = Buffer.concat([method(), headerFrame(2), frame(3, Buffer.from("{}"))]);
  assert.deepEqual(guard.filter(next), next, "the next message passes as it came");
});

Deno.test("bytes read that pass nothing on reach amqplib as an empty chunk: heard from RabbitMQ all the same", () => {
  const chunks = [
    Buffer.concat([method(), headerFrame(1_000_000)]),
    frame(3, Buffer.alloc(100_000)),
    frame(3, Buffer.alloc(100_000)),
  ];
  // amqplib's stream: read() hands over what arrived, null when nothing did.
  const stream = { read: (): Buffer | null => chunks.shift() ?? null };
  const model = { connection: { stream, rest: new Uint8Array(0) } };
  assert.ok(guardIncomingFrames(model, { maxBodyBytes: 10 }));
  assert.equal(messages(stream.read()!)[0]!.size, 10);
  assert.equal(stream.read()!.length, 7 + 10 + 1);
  const dropped = stream.read();
  assert.ok(dropped !== null && dropped.length === 0, "not null, which amqplib takes for a silent server");
  assert.equal(stream.read(), null);
});

Deno.test("the frame guard leaves bodies alone without maxBodyBytes", () => {
  const stream = Buffer.concat([method(), headerFrame(1_000_000), frame(3, Buffer.alloc(1_000_000))]);
  assert.deepEqual(createFrameGuard().filter(stream), stream);
});

Deno.test("bodyCutFrom() believes only the guard's own mark", async (t) => {
  await t.step("a publisher's look-alike headers are not the mark", () => {
    assert.equal(bodyCutFrom(undefined), undefined);
    assert.equal(bodyCutFrom({ "x-beds-body-size": "99999999" }), undefined);
    assert.equal(bodyCutFrom({ "x-beds-body-cut": "99999999" }), undefined);
  });
  await t.step("the mark replaces the publisher's whole table", () => {
    const cut = cutHeader(headerFrame(1000, 1, table("x-beds-body-size", "3")), 1000, 10).toString("latin1");
    assert.ok(!cut.includes("x-beds-body-size"), "no header of the publisher's is left");
    assert.match(cut, /x-beds-body-cut-[0-9a-f-]{36}S/);
    assert.ok(cut.includes("S\x00\x00\x00\x041000"), "its value: the size, as a long string");
    assert.ok(cut.endsWith("\x03c-1\xce"), "the other properties stay");
  });
  await t.step("a header frame without a table gets the mark", () => {
    const cut = cutHeader(headerFrame(1000), 1000, 10);
    assert.equal(cut.readUInt16BE(7 + 12) & 0x2000, 0x2000, "the headers flag is set");
    assert.equal(messages(cut)[0]!.size, 10);
  });
});

Deno.test("decodeRequest() judges a cut body on the size it was published with", async (t) => {
  const start = new Uint8Array(256).fill(0x20);
  await t.step("past the limit: TOO_LARGE with the published size", () => {
    let error: unknown;
    try {
      decodeRequest(start, 256, { publishedSize: 50_000_000 });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof BedsError);
    assert.equal(error.code, "TOO_LARGE");
    assert.equal(error.message, "Request body of 50000000 bytes exceeds the limit of 256");
    assert.deepEqual(error.details, { limit: 256, size: 50_000_000 });
  });
  await t.step("within the limit (cut under a lower one): BAD_REQUEST, never the start as a request", () => {
    const body = new TextEncoder().encode('{"template":"cus","op":"read"}');
    assert.throws(
      () => decodeRequest(body, 1000, { publishedSize: 500 }),
      (e: unknown) => e instanceof BedsError && e.code === "BAD_REQUEST" && /kept cut/.test(e.message),
    );
    assert.deepEqual(decodeRequest(body, 1000, { publishedSize: body.length }), {
      template: "cus",
      op: "read",
    });
  });
});
