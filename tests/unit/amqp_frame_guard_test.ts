import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { createFrameGuard, HEADERS_DROPPED, withoutHeaders } from "../../src/amqp/frame_guard.ts";
import { deepHeaders, filteredInPieces, frame as rawFrame } from "../helpers/raw_amqp.ts";

const frame = (type: number, payload: Buffer, channel = 1) => rawFrame(type, channel, payload);

/** A basic header frame: content-type, then `headers` (an encoded table), then a correlation id. */
function headerFrame(headers: Buffer): Buffer {
  const fixed = Buffer.alloc(14);
  fixed.writeUInt16BE(60, 0);
  fixed.writeBigUInt64BE(2n, 4);
  fixed.writeUInt16BE(0x8000 | 0x2000 | 0x0400, 12);
  const type = Buffer.concat([Buffer.from([16]), Buffer.from("application/json")]);
  const correlation = Buffer.concat([Buffer.from([3]), Buffer.from("c-1")]);
  return frame(2, Buffer.concat([fixed, type, headers, correlation]));
}

const method = frame(1, Buffer.from([0, 60, 0, 60, 1, 2, 3]));
const body = frame(3, Buffer.from("{}"));
const small = headerFrame(deepHeaders(3));
const big = headerFrame(deepHeaders(6000));

Deno.test("withoutHeaders() leaves every property but the headers, which name their size", () => {
  const out = withoutHeaders(big);
  assert.equal(out.readUInt32BE(3), out.length - 8, "the frame's size is its payload's");
  assert.equal(out.at(-1), 0xce);
  const text = out.toString("latin1");
  assert.ok(text.includes("application/json") && text.endsWith("\x03c-1\xce"), "the other properties stay");
  assert.ok(text.includes(`${HEADERS_DROPPED}S`), "the marker is a long string");
  assert.ok(text.includes(`${deepHeaders(6000).length - 4} bytes`));
  assert.ok(out.length < 200);
  // Not a basic header frame, or no headers: as it was.
  assert.equal(withoutHeaders(method), method);
});

Deno.test("the frame guard passes frames as they came, however the bytes are split, but a large header frame", () => {
  const stream = Buffer.concat([method, small, body, big, body, method, small, body]);
  const expected = Buffer.concat([method, small, body, withoutHeaders(big), body, method, small, body]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 12 }), (cuts) => {
      assert.deepEqual(filteredInPieces(createFrameGuard(), stream, cuts), expected);
    }),
  );
});

Deno.test("the frame guard hands on a chunk of whole small frames as it is, uncopied", () => {
  const chunk = Buffer.concat([method, small, body]);
  const passed = createFrameGuard().filter(chunk)!;
  assert.deepEqual(passed, chunk);
  assert.ok(passed.buffer === chunk.buffer && passed.byteOffset === chunk.byteOffset, "a view, not a copy");
  const guard = createFrameGuard();
  assert.equal(guard.filter(chunk.subarray(0, 3)), null, "a frame's header not all there yet");
  assert.deepEqual(guard.filter(chunk.subarray(3)), chunk);
});
