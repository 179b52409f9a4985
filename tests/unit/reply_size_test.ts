import assert from "node:assert/strict";
import { sizedReply } from "../../src/brokers/reply_size.ts";
import type { Reply } from "../../src/protocol/mod.ts";

const META = { event: "e-1", node: "n1", broker: "mBroker", ms: 1, rows: 3 };
const ok = (data: unknown): Reply => ({ ok: true, data, meta: META });

Deno.test("sizedReply() passes a reply within the limit, and replaces a longer one by TOO_LARGE", () => {
  const small = sizedReply(ok([{ a: 1 }]), "read", 1024)!;
  assert.equal(small.size, undefined);
  assert.deepEqual(JSON.parse(small.bytes.toString()), ok([{ a: 1 }]));
  const large = sizedReply(ok(["x".repeat(2000)]), "call", 1024)!;
  assert.ok(large.size! > 1024);
  assert.equal(large.reply.ok, false);
  const error = (large.reply as { error: { code: string; message: string; details: unknown } }).error;
  assert.equal(error.code, "TOO_LARGE");
  assert.match(error.message, /^The call ran, but its result \(\d+ bytes\) is too large to send/);
  assert.deepEqual(error.details, { limit: 1024, size: large.size });
  assert.equal(large.reply.meta.rows, 0);
});

Deno.test("sizedReply() answers TOO_LARGE for a reply longer than a string can be, and nothing for one JSON cannot hold", () => {
  // What JSON.stringify throws past V8's longest string (about 512 MiB), without building one.
  const endless = {
    toJSON: () => {
      throw new RangeError("Invalid string length");
    },
  };
  const huge = sizedReply(ok(endless), "call", 16 * 1024 * 1024)!;
  assert.equal(huge.reply.ok, false);
  const error = (huge.reply as { error: { code: string; message: string } }).error;
  assert.equal(error.code, "TOO_LARGE");
  assert.match(error.message, /^The call ran, but its result \(over \d+ bytes\) is too large to send/);
  assert.equal(sizedReply(ok({ n: 1n }), "read", 1024), undefined, "a BigInt: not JSON at all");
});
