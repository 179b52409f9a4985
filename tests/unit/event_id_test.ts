import assert from "node:assert/strict";
import { createEventIds } from "../../src/protocol/event_id.ts";

/** A clock that returns the given times in turn, then repeats the last. */
function clock(...times: number[]): () => number {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

Deno.test("createEventIds() formats ids as <time36>-<node>-<boot>-<seq36>", () => {
  const ids = createEventIds({ node: "app01", boot: "b1", now: () => 1_700_000_000_000 });
  const time = (1_700_000_000_000).toString(36).padStart(9, "0");
  assert.equal(ids.next(), `${time}-app01-b1-0`);
  assert.equal(ids.next(), `${time}-app01-b1-1`);
});

Deno.test("createEventIds() produces unique ids even when the clock stands still", () => {
  const ids = createEventIds({ node: "app01", boot: "b1", now: () => 42 });
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(ids.next());
  assert.equal(seen.size, 5000);
});

Deno.test("createEventIds() ids of two boots of one node differ", () => {
  const a = createEventIds({ node: "app01", boot: "boot1", now: () => 42 });
  const b = createEventIds({ node: "app01", boot: "boot2", now: () => 42 });
  assert.notEqual(a.next(), b.next());
});

Deno.test("createEventIds() ids sort by time with an injected clock", () => {
  // Times chosen so that a shorter base-36 number would sort wrongly without padding.
  const times = [35, 36, 1_295, 1_296, 1_700_000_000_000, 1_700_000_000_001, 4_000_000_000_000];
  const ids = createEventIds({ node: "n", boot: "b", now: clock(...times) });
  const generated = times.map(() => ids.next());
  assert.deepEqual([...generated].reverse().sort(), generated);
});

Deno.test("createEventIds() defaults the boot id to the clock at creation", () => {
  const ids = createEventIds({ node: "n", now: clock(1000, 2000) });
  assert.equal(ids.next(), `${(2000).toString(36).padStart(9, "0")}-n-${(1000).toString(36)}-0`);
});

Deno.test("createEventIds() sanitises the node so the id keeps four dash-separated parts", () => {
  const ids = createEventIds({ node: "host-01.example.com:5672", boot: "b", now: () => 1 });
  const id = ids.next();
  assert.equal(id.split("-").length, 4);
  assert.equal(id.split("-")[1], "host_01_example_com_5672");
});

Deno.test("createEventIds() child ids extend the parent id", async (t) => {
  const ids = createEventIds({ node: "n", boot: "b", now: () => 7 });
  const parent = ids.next();
  await t.step("next(parent) appends a new root id", () => {
    const child = ids.next(parent);
    assert.ok(child.startsWith(`${parent}.`), child);
    assert.equal(child, `${parent}.000000007-n-b-1`);
  });
  await t.step("child(parent, n) appends .n", () => {
    assert.equal(ids.child(parent, 0), `${parent}.0`);
    assert.equal(ids.child(parent, 3), `${parent}.3`);
  });
  await t.step("a grandchild shares the whole chain's prefix", () => {
    const child = ids.child(parent, 2);
    const grandchild = ids.next(child);
    assert.ok(grandchild.startsWith(`${child}.`));
    assert.ok(grandchild.startsWith(`${parent}.`));
  });
});
