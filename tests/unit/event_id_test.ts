import assert from "node:assert/strict";
import fc from "fast-check";
import {
  chainRange,
  chainRoot,
  createEventIds,
  EVENT_ID_PATTERN,
  inChain,
  parentId,
} from "../../src/protocol/event_id.ts";
import { checkRequest } from "../../src/protocol/request.ts";

/** A clock that returns the given times in turn, then repeats the last. */
function clock(...times: number[]): () => number {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

/** Byte-order comparison, as the store's binary collation compares. */
const byteOrder = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

Deno.test("createEventIds() formats ids as <time36>-<node>-<boot>-<seq36>", () => {
  const ids = createEventIds({ node: "app01", boot: "b1", now: () => 1_700_000_000_000 });
  const time = (1_700_000_000_000).toString(36).padStart(9, "0");
  assert.equal(ids.next(), `${time}-app01-b1-0000`);
  assert.equal(ids.next(), `${time}-app01-b1-0001`);
});

Deno.test("createEventIds() produces unique ids even when the clock stands still", () => {
  const ids = createEventIds({ node: "app01", boot: "b1", now: () => 42 });
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(ids.next());
  assert.equal(seen.size, 5000);
});

Deno.test("createEventIds() ids of two boots of one node differ", async (t) => {
  await t.step("with explicit boot ids", () => {
    const a = createEventIds({ node: "app01", boot: "boot1", now: () => 42 });
    const b = createEventIds({ node: "app01", boot: "boot2", now: () => 42 });
    assert.notEqual(a.next(), b.next());
  });
  await t.step("with default boot ids started in the same millisecond", () => {
    const a = createEventIds({ node: "app01", now: () => 42 });
    const b = createEventIds({ node: "app01", now: () => 42 });
    const first = new Set(Array.from({ length: 100 }, () => a.next()));
    for (let i = 0; i < 100; i++) assert.ok(!first.has(b.next()));
  });
  await t.step("the default boot id is the start time plus a salt", () => {
    const ids = createEventIds({ node: "n", now: clock(1000, 2000), random: () => 0.5 });
    const salt = Math.floor(0.5 * 36 ** 4).toString(36);
    assert.equal(ids.next(), `${(2000).toString(36).padStart(9, "0")}-n-${(1000).toString(36)}${salt}-0000`);
  });
});

Deno.test("createEventIds() ids sort by time", async (t) => {
  await t.step("across base-36 digit boundaries", () => {
    const times = [35, 36, 1_295, 1_296, 1_700_000_000_000, 1_700_000_000_001, 4_000_000_000_000];
    const ids = createEventIds({ node: "n", boot: "b", now: clock(...times) });
    const generated = times.map(() => ids.next());
    assert.deepEqual([...generated].reverse().sort(byteOrder), generated);
  });
  await t.step("within one millisecond past 36 ids", () => {
    const ids = createEventIds({ node: "n", boot: "b", now: () => 5 });
    const generated = Array.from({ length: 2000 }, () => ids.next());
    assert.deepEqual([...generated].sort(byteOrder), generated);
  });
  await t.step("when the clock steps backwards", () => {
    const ids = createEventIds({ node: "n", boot: "b", now: clock(1000, 1001, 900, 950, 1002) });
    const generated = Array.from({ length: 5 }, () => ids.next());
    assert.deepEqual([...generated].sort(byteOrder), generated);
    assert.equal(new Set(generated).size, 5);
  });
  await t.step("across nodes, by time first", () => {
    const a = createEventIds({ node: "zeta", boot: "b", now: () => 1000 });
    const b = createEventIds({ node: "alpha", boot: "b", now: () => 1001 });
    assert.ok(a.next() < b.next());
  });
});

Deno.test("createEventIds() sanitises node and boot so the id keeps four dash-separated parts", () => {
  const ids = createEventIds({ node: "host-01.example.com:5672", boot: "b.1-x", now: () => 1 });
  const id = ids.next();
  assert.equal(id.split("-").length, 4);
  assert.equal(id.split("-")[1], "host_01_example_com_5672");
  assert.ok(!id.includes("."));
  assert.match(id, EVENT_ID_PATTERN);
});

Deno.test("createEventIds() child ids extend the parent id", async (t) => {
  const ids = createEventIds({ node: "n", boot: "b", now: () => 7 });
  const parent = ids.next();
  await t.step("next(parent) appends a new root id", () => {
    const child = ids.next(parent);
    assert.equal(child, `${parent}.000000007-n-b-0001`);
    assert.equal(parentId(child), parent);
  });
  await t.step("child(parent, n) appends .n for fan-out parts", () => {
    assert.equal(ids.child(parent, 1), `${parent}.1`);
    assert.equal(ids.child(parent, 3), `${parent}.3`);
  });
  await t.step("retry(root, attempt) appends .r<attempt>, never colliding with a part", () => {
    assert.equal(ids.retry(parent, 2), `${parent}.r2`);
    assert.notEqual(ids.retry(parent, 2), ids.child(parent, 2));
  });
  await t.step("a grandchild shares the whole chain's prefix and root", () => {
    const grandchild = ids.next(ids.retry(parent, 2));
    assert.ok(grandchild.startsWith(`${parent}.r2.`));
    assert.equal(chainRoot(grandchild), parent);
    assert.ok(inChain(grandchild, parent));
  });
  await t.step("a client-supplied parent prefixes its children", () => {
    for (const own of ["order-42", "ORD_7.step-1", parent]) {
      const request = checkRequest({ template: "ord", op: "read", event: { parent: own } });
      const child = ids.next(request.event!.parent);
      assert.ok(child.startsWith(`${own}.`), child);
      assert.equal(parentId(child), own);
      assert.equal(chainRoot(child), chainRoot(own));
    }
  });
});

Deno.test("checkRequest() rejects an event.parent that could not prefix a chain", async (t) => {
  for (const bad of ["", "a..b", ".a", "a.", "a%b", "a b", "x".repeat(401)]) {
    await t.step(JSON.stringify(bad.slice(0, 12)), () => {
      assert.throws(
        () => checkRequest({ template: "ord", op: "read", event: { parent: bad } }),
        (e: Error & { code?: string }) => e.code === "BAD_REQUEST",
      );
    });
  }
});

Deno.test("chainRange() selects exactly the descendants of an id, in byte order", () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
  const id = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("."));
  fc.assert(
    fc.property(id, fc.array(id, { maxLength: 30 }), (ancestor, others) => {
      const { from, to } = chainRange(ancestor);
      for (const candidate of [...others, ancestor, `${ancestor}.1`, `${ancestor}-x`, `${ancestor}0`]) {
        const inRange = candidate === ancestor || (candidate >= from && candidate < to);
        assert.equal(inRange, inChain(candidate, ancestor), `${candidate} under ${ancestor}`);
      }
    }),
  );
});

Deno.test("chainRoot() and parentId() read the chain structure of an id", () => {
  assert.equal(chainRoot("a-n-b-0000"), "a-n-b-0000");
  assert.equal(chainRoot("a-n-b-0000.r2.3"), "a-n-b-0000");
  assert.equal(parentId("a-n-b-0000"), undefined);
  assert.equal(parentId("a-n-b-0000.r2.3"), "a-n-b-0000.r2");
});
