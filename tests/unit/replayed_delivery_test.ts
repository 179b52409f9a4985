import assert from "node:assert/strict";
import { HEADERS } from "../../src/amqp/mod.ts";
import type { Request } from "../../src/protocol/mod.ts";
import { replayedFromOf, withoutReplayedDeadline } from "../../src/brokers/delivery.ts";

const request: Request = {
  template: "cus",
  op: "create",
  data: { email: "a@b.c", name: "A" },
  deadline_ms: 1,
} as Request;

Deno.test("withoutReplayedDeadline() drops the deadline of a replayed dead letter only", async (t) => {
  await t.step("a replay (its header believed): no deadline, the rest unchanged", () => {
    const out = withoutReplayedDeadline(request, { [HEADERS.replayedFrom]: "0123456789abcdef" });
    assert.equal(out.deadline_ms, undefined);
    assert.ok(!("deadline_ms" in out));
    assert.deepEqual({ ...out, deadline_ms: 1 }, request);
  });
  await t.step('a replay of a letter that had no message_id (an older beds sent "")', () => {
    assert.equal(withoutReplayedDeadline(request, { [HEADERS.replayedFrom]: "" }).deadline_ms, undefined);
  });
  await t.step("any other delivery, or headers not believed (none given): kept", () => {
    assert.equal(withoutReplayedDeadline(request, {}), request);
    assert.equal(withoutReplayedDeadline(request, { [HEADERS.attempt]: 2 }), request);
  });
  await t.step("a header that is not text is not a replay", () => {
    assert.equal(withoutReplayedDeadline(request, { [HEADERS.replayedFrom]: 5 }), request);
    assert.equal(replayedFromOf({ [HEADERS.replayedFrom]: { a: 1 } }), undefined);
  });
});
