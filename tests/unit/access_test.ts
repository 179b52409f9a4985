import assert from "node:assert/strict";
import {
  type AccessPolicy,
  createAccessPolicy,
  createReloadableAccessPolicy,
  grantMatches,
  replayRefusal,
  requesterOf,
} from "../../src/dispatch/access.ts";
import { dispatch, type DispatchDeps } from "../../src/dispatch/dispatch.ts";
import { decide } from "../../src/brokers/retry_policy.ts";
import { type AccessConfig, configSchema } from "../../src/config/schema.ts";
import { BedsError } from "../../src/errors.ts";
import type { Op } from "../../src/config/mod.ts";

const CONFIG: AccessConfig = {
  enabled: true,
  admin_users: ["ops"],
  users: {
    reader: { allow: ["read.*"] },
    cus_app: { allow: ["*.cus", "call.ord"] },
    feeder: { allow: ["create.cus"] },
    ops_reader: { allow: ["read.mst", "*.nst"] },
  },
};

function policy(config: Partial<AccessConfig> = {}): AccessPolicy {
  return createAccessPolicy({ config: { ...CONFIG, ...config }, nodeUser: "beds" });
}

function forbidden(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BedsError);
    assert.equal(error.code, "FORBIDDEN");
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("grantMatches() matches each word literally or by *", async (t) => {
  const cases: Array<[string, Op, string, boolean]> = [
    ["read.*", "read", "cus", true],
    ["read.*", "create", "cus", false],
    ["*.cus", "delete", "cus", true],
    ["*.cus", "delete", "cusx", false],
    ["call.cus", "call", "cus", true],
    ["call.cus", "read", "cus", false],
    ["*.*", "update", "ord", true],
  ];
  for (const [pattern, op, template, expected] of cases) {
    await t.step(`${pattern} ${expected ? "covers" : "does not cover"} ${op}.${template}`, () => {
      assert.equal(grantMatches(pattern, op, template), expected);
    });
  }
});

Deno.test("AccessPolicy.check() allows granted users and answers FORBIDDEN otherwise", async (t) => {
  const access = policy();
  await t.step("a user granted read.* may read any template", () => {
    access.check("reader", "read", "cus");
    access.check("reader", "read", "ord");
  });
  await t.step("a user granted read.* may not create", () => {
    forbidden(() => access.check("reader", "create", "cus"), /User "reader" may not create template "cus"/);
  });
  await t.step("several grants add up", () => {
    access.check("cus_app", "update", "cus");
    access.check("cus_app", "call", "ord");
    forbidden(() => access.check("cus_app", "read", "ord"), /may not read template "ord"/);
  });
  await t.step("a template of the admin exchange is granted by name only, not by a wildcard", () => {
    forbidden(() => access.check("reader", "read", "mst", true), /User "reader" may not read template "mst"/);
    access.check("reader", "read", "mst", false); // the same template on the data exchange
    access.check("ops_reader", "read", "mst", true);
    access.check("ops_reader", "create", "nst", true);
    access.check("cus_app", "update", "cus", true);
    forbidden(() => access.check("ops_reader", "call", "mst", true), /may not call template "mst"/);
  });
  await t.step("a user not in [access.users] may do nothing", () => {
    forbidden(() => access.check("stranger", "read", "cus"), /User "stranger"/);
  });
  await t.step("a request without user_id is refused", () => {
    forbidden(() => access.check(undefined, "read", "cus"), /no user_id/);
    forbidden(() => access.check("", "read", "cus"), /no user_id/);
  });
  await t.step("with access control off everything is allowed, even without user_id", () => {
    const off = policy({ enabled: false });
    off.check(undefined, "delete", "cus");
    off.check("stranger", "create", "ord");
  });
});

Deno.test("AccessPolicy.mayAdminister() accepts admin users only when enabled", () => {
  const access = policy();
  assert.equal(access.mayAdminister("ops"), true);
  assert.equal(access.mayAdminister("reader"), false);
  assert.equal(access.mayAdminister(undefined), false);
  assert.equal(policy({ enabled: false }).mayAdminister(undefined), true);
});

Deno.test("requesterOf() trusts the requester header only on the node's own copies", async (t) => {
  await t.step("a client's user_id is the requester", () => {
    assert.equal(requesterOf("reader", undefined, "beds"), "reader");
  });
  await t.step("a client cannot claim another user with the header", () => {
    assert.equal(requesterOf("reader", "ops", "beds"), "reader");
    assert.equal(requesterOf(undefined, "ops", "beds"), undefined);
  });
  await t.step("a copy stamped with the node's user runs as the original requester", () => {
    assert.equal(requesterOf("beds", "feeder", "beds"), "feeder");
  });
  await t.step("a copy of an anonymous request (empty header) stays anonymous, never the node", () => {
    assert.equal(requesterOf("beds", "", "beds"), undefined);
  });
  await t.step("the node's own request without header runs as the node's user", () => {
    assert.equal(requesterOf("beds", undefined, "beds"), "beds");
    assert.equal(requesterOf("beds", 42, "beds"), "beds");
  });
});

Deno.test("dispatch() answers FORBIDDEN before it looks at the template", async (t) => {
  let lookups = 0;
  const deps: DispatchDeps = {
    registry: () => {
      lookups++;
      throw new Error("registry reached");
    },
    adapters: new Map(),
    limits: {
      max_body_bytes: 65536,
      max_reply_bytes: 16_777_216,
      default_read_limit: 100,
      max_read_limit: 1000,
    },
    access: policy(),
  };
  const ops = new Set<Op>(["create", "read"]);
  await t.step("an ungranted op is FORBIDDEN, even for an unknown template", async () => {
    await assert.rejects(
      dispatch({ template: "zzz", op: "create", data: {} }, ops, deps, { event: "e", user: "reader" }),
      (error: unknown) => error instanceof BedsError && error.code === "FORBIDDEN",
    );
    assert.equal(lookups, 0);
  });
  await t.step("a granted request goes on to the registry", async () => {
    await assert.rejects(
      dispatch({ template: "cus", op: "read" }, ops, deps, { event: "e", user: "reader" }),
      /registry reached/,
    );
    assert.equal(lookups, 1);
  });
});

Deno.test("decide() answers a FORBIDDEN write and never retries it", async (t) => {
  const base = { op: "create" as const, attempt: 1, retryDelaysMs: [10], maxAttempts: 3, now: 0 };
  await t.step("with reply_to: replied", () => {
    assert.deepEqual(decide({ ...base, code: "FORBIDDEN", hasReplyTo: true }), { action: "reply" });
  });
  await t.step("fire-and-forget: kept in the DLQ like any unanswered failed write", () => {
    assert.deepEqual(decide({ ...base, code: "FORBIDDEN", hasReplyTo: false }), {
      action: "dead_letter",
      reason: "unanswered_write",
    });
  });
  await t.step("a fire-and-forget read: dropped", () => {
    assert.deepEqual(decide({ ...base, op: "read", code: "FORBIDDEN", hasReplyTo: false }), {
      action: "reply",
    });
  });
});

Deno.test("config [access] rejects malformed grants and unknown keys", async (t) => {
  const access = configSchema.shape.access;
  await t.step("defaults to off", () => {
    assert.deepEqual(access.parse(undefined), { enabled: false, admin_users: [], users: {} });
  });
  for (const bad of ["write.cus", "read", "read.#", "read.CUS", "read.cus.extra"]) {
    await t.step(`grant "${bad}" is invalid`, () => {
      const result = access.safeParse({ enabled: true, users: { a: { allow: [bad] } } });
      assert.equal(result.success, false);
      assert.match(result.error!.issues[0]!.message, /<op\|\*>\.<template\|\*>/);
    });
  }
  await t.step("an unknown key is an error", () => {
    assert.equal(access.safeParse({ enabled: true, users: { a: { allow: [], deny: [] } } }).success, false);
  });
});

Deno.test("createReloadableAccessPolicy() checks with the grants it was last given, through references taken before", () => {
  const before = { enabled: true, admin_users: ["ops"], users: { web: { allow: ["read.*"] } } };
  const policy = createReloadableAccessPolicy({ config: before, nodeUser: "beds" });
  // Held as the admin listener and dispatch hold them: taken once, at start.
  const { check, mayAdminister } = policy;
  assert.doesNotThrow(() => check("web", "read", "cus"));
  assert.equal(mayAdminister("ops"), true);
  policy.replace({ enabled: true, admin_users: ["root"], users: { web: { allow: ["create.cus"] } } });
  assert.throws(() => check("web", "read", "cus"), /User "web" may not read template "cus"/);
  assert.doesNotThrow(() => check("web", "create", "cus"));
  assert.equal(mayAdminister("ops"), false);
  assert.equal(mayAdminister("root"), true);
  assert.equal(policy.nodeUser, "beds");
  policy.replace({ enabled: false, admin_users: [], users: {} });
  assert.equal(policy.enabled, false);
  assert.doesNotThrow(() => check(undefined, "delete", "ord"));
});

Deno.test("replayRefusal() lets a replay run only as its requester", () => {
  // Not a replay, or replayed by the nodes' user (whose header is believed): no refusal.
  assert.equal(replayRefusal(undefined, "ops", "mallory", "beds"), undefined);
  assert.equal(replayRefusal("letter-1", "beds", "mallory", "beds"), undefined);
  // Replayed by the letter's own requester: it runs as that user, which it is.
  assert.equal(replayRefusal("letter-1", "ops", "ops", "beds"), undefined);
  // Anyone else's letter, or one with no requester, would run as the replaying user.
  assert.match(replayRefusal("letter-1", "ops", "mallory", "beds")!, /of "mallory" replayed by "ops"/);
  assert.match(replayRefusal("letter-1", "ops", "", "beds")!, /of no user replayed by "ops"/);
  assert.match(replayRefusal("letter-1", "ops", undefined, "beds")!, /of no user/);
});
