/**
 * checkRequest() accepts valid requests without zod, so its written-out
 * check must agree with the zod schema: on generated requests, valid and
 * invalid, it accepts exactly what the schema accepts (plus the op "call"
 * rule), returns the same fields, and fails with the schema's own message.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkRequest, requestSchema } from "../../src/protocol/request.ts";
import { BedsError } from "../../src/errors.ts";

const oneOf = (...values: unknown[]) => fc.constantFrom(...values);
const absent = fc.constant(undefined);

/** Mostly a valid value, sometimes a wrong one. */
const mostly = (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 10 }, { arbitrary: invalid, weight: 1 });

/** A value for each top-level key. */
const parts = {
  v: mostly(fc.oneof(absent, oneOf(1)), oneOf(2, 0, "1", null)),
  template: mostly(
    fc.oneof(oneOf("cus", "prd", "a", "a_b_1", "x".repeat(32)), fc.stringMatching(/^[a-z][a-z0-9_]{0,5}$/)),
    fc.oneof(oneOf("Cus", "", "1cus", "read.cus", "x".repeat(33), null, 7), fc.string({ maxLength: 6 })),
  ),
  op: mostly(oneOf("create", "read", "update", "delete", "call"), oneOf("upsert", "READ", "", null)),
  call: mostly(
    fc.oneof(absent, oneOf("orders", "a", "_x", "y".repeat(64))),
    oneOf("", "Orders", "a-b", 3, null),
  ),
  key: mostly(
    fc.oneof(absent, fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }))),
    oneOf(null, [], [1], "k", 1),
  ),
  data: mostly(fc.oneof(absent, fc.object({ maxDepth: 1 })), oneOf(null, [1, 2], true)),
  where: mostly(fc.oneof(absent, fc.object({ maxDepth: 1 })), oneOf(null, [], "x")),
  limit: mostly(
    fc.oneof(absent, fc.nat(), oneOf(0, Number.MAX_SAFE_INTEGER)),
    oneOf(-1, 1.5, 2 ** 53, "10", null),
  ),
  offset: mostly(fc.oneof(absent, fc.nat()), oneOf(-5, 0.1, 2 ** 60, null)),
  order: mostly(
    fc.oneof(absent, fc.array(oneOf("id", "-id", "name", "-created_at", "_x"), { maxLength: 8 })),
    fc.oneof(
      fc.array(oneOf("id", "+id", "--id", "Name", "na me", 1), { minLength: 1, maxLength: 3 }),
      fc.constant(Array(9).fill("id")),
      oneOf("id", null, {}),
    ),
  ),
  event: mostly(
    fc.oneof(
      absent,
      fc.record({
        parent: oneOf("abc-node-boot-0", "a.b.c", "x".repeat(400), "A_-9", Array(32).fill("a").join(".")),
      }),
    ),
    fc.oneof(
      fc.record({
        parent: oneOf("x".repeat(401), "a..b", "", "a b", ".a", 5, Array(33).fill("a").join(".")),
      }),
      oneOf({}, { parent: "a", extra: 1 }, null, "a"),
    ),
  ),
  deadline_ms: mostly(fc.oneof(absent, fc.integer({ min: 1, max: 2 ** 45 })), oneOf(0, -1, 1.5, "1", null)),
  extra: mostly(absent, oneOf(1, "x")),
};

const requests = fc.record(parts).map((r) => {
  const body: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(r)) {
    if (value === undefined) continue;
    body[k === "extra" ? "wehre" : k] = value;
  }
  return body;
});

function outcome(
  fn: () => unknown,
): { ok: true; value: unknown } | { ok: false; message: string; details: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    assert.ok(error instanceof BedsError);
    return { ok: false, message: error.message, details: error.details };
  }
}

/** What checkRequest gave when zod decided everything (the code before the written-out check). */
function viaSchema(body: Record<string, unknown>) {
  return outcome(() => {
    for (const part of ["key", "data", "where"]) {
      const map = body[part];
      if (typeof map === "object" && map !== null && Object.hasOwn(map, "__proto__")) {
        throw new BedsError("VALIDATION", 'Unknown field "__proto__"', { details: { field: "__proto__" } });
      }
    }
    const result = requestSchema.safeParse(body);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const describe = (i: typeof issue) => {
        if (i.code === "unrecognized_keys") return `unknown key "${i.keys[0]}"`;
        const path = i.path.map(String).join(".");
        return path ? `${path}: ${i.message}` : i.message;
      };
      throw new BedsError("BAD_REQUEST", `Invalid request: ${describe(issue)}`, {
        details: { issues: result.error.issues.slice(0, 5).map(describe) },
      });
    }
    if (result.data.op === "call" && !result.data.call) {
      throw new BedsError("BAD_REQUEST", 'Invalid request: op "call" needs a "call" name');
    }
    if (result.data.op !== "call" && result.data.call !== undefined) {
      throw new BedsError("BAD_REQUEST", `Invalid request: op "${result.data.op}" does not take "call"`);
    }
    return result.data;
  });
}

Deno.test("checkRequest() agrees with the zod schema on generated requests", () => {
  let accepted = 0;
  fc.assert(
    fc.property(requests, (body) => {
      const expected = viaSchema(structuredClone(body));
      const actual = outcome(() => checkRequest(structuredClone(body)));
      assert.deepEqual(actual, expected);
      if (actual.ok) accepted++;
    }),
    { numRuns: 5000 },
  );
  // Both halves were exercised.
  assert.ok(accepted > 100, `only ${accepted} generated requests were valid`);
});

Deno.test("checkRequest() returns the request's own fields for a valid request", () => {
  const body = {
    v: 1,
    template: "cus",
    op: "read",
    key: { id: 1 },
    where: { status: ["active"] },
    limit: 10,
    offset: 0,
    order: ["-id"],
    event: { parent: "a.b" },
    deadline_ms: 1,
  };
  assert.deepEqual(checkRequest(structuredClone(body)), body);
});
