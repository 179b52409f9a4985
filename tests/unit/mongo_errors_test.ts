import assert from "node:assert/strict";
import {
  MongoClientClosedError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from "mongodb";
// Not exported by the package's index: the class the driver throws on a checkout from a closed pool.
import { PoolClosedError } from "mongodb/lib/cmap/errors.js";
import { mapMongoError, TRANSIENT_LABELS } from "../../src/adapters/mongodb/errors.ts";
import { BedsError, type ErrorCode, isTransient } from "../../src/errors.ts";

function assertCode(error: unknown, code: ErrorCode): BedsError {
  const mapped = mapMongoError(error);
  assert.equal(mapped.code, code, `${(error as Error)?.name}: got ${mapped.code}`);
  if (error !== mapped) assert.equal(mapped.cause, error, "the driver error is kept as the cause");
  return mapped;
}

Deno.test("mapMongoError() answers CONFLICT for a duplicate key, naming the index", async (t) => {
  await t.step("11000 from insertOne", () => {
    const mapped = assertCode(
      new MongoServerError({
        code: 11000,
        errmsg:
          'E11000 duplicate key error collection: beds.customers index: email_1 dup key: { email: "a@b.c" }',
        keyPattern: { email: 1 },
        keyValue: { email: "a@b.c" },
      }),
      "CONFLICT",
    );
    assert.equal(mapped.message, 'Duplicate value for unique key "email_1"');
    assert.deepEqual(mapped.details, { fields: ["email"] }, "field names only, never the value");
  });
  await t.step("11000 without an index name", () => {
    assert.equal(assertCode({ code: 11000, message: "dup" }, "CONFLICT").message, "Duplicate value");
  });
});

Deno.test("mapMongoError() answers DB_UNAVAILABLE (transient) when the server cannot be reached", async (t) => {
  const cases: Array<[string, unknown]> = [
    ["MongoNetworkError", new MongoNetworkError("connection reset")],
    ["MongoNetworkTimeoutError", new MongoNetworkTimeoutError("timed out")],
    [
      "MongoServerSelectionError",
      new MongoServerSelectionError("no server", { error: null } as never),
    ],
    ["MongoTopologyClosedError", new MongoTopologyClosedError()],
    [
      "a subclass of MongoNetworkError with a name of its own",
      new (class extends MongoNetworkError {
        override get name() {
          return "MongoSomeFutureError";
        }
      })("cleared"),
    ],
    ["NotWritablePrimary (10107)", new MongoServerError({ code: 10107, errmsg: "not primary" })],
    ["a RetryableWriteError label", { code: 1, errorLabels: ["RetryableWriteError"] }],
    // What an operation still waiting gets from the node's close(), as MariaDB's aborted statements.
    ["MongoClientClosedError", new MongoClientClosedError()],
    ["MongoPoolClosedError", new PoolClosedError({ address: "127.0.0.1:27017" } as never)],
    [
      "an overloaded server (labels SystemOverloadedError, RetryableError), as MariaDB's 1040",
      new MongoServerError({
        ok: 0,
        code: 462,
        codeName: "IngressRequestRateLimitExceeded",
        errmsg: "rate limited",
        errorLabels: ["SystemOverloadedError", "RetryableError"],
      }),
    ],
    [
      "LockTimeout (24), as MariaDB's lock wait timeout (1205)",
      new MongoServerError({ code: 24, codeName: "LockTimeout", errmsg: "Unable to acquire lock" }),
    ],
  ];
  for (const [name, error] of cases) {
    await t.step(name, () => assert.ok(isTransient(assertCode(error, "DB_UNAVAILABLE"))));
  }
});

Deno.test("the labels mapMongoError() takes as transient are labels the driver sets", () => {
  const driverLabels = new Set<string>(Object.values(MongoErrorLabel));
  for (const label of TRANSIENT_LABELS) assert.ok(driverLabels.has(label), label);
});

Deno.test("mapMongoError() answers VALIDATION for a document the collection's validator rejects (121)", () => {
  const mapped = assertCode(
    new MongoServerError({ code: 121, errmsg: "Document failed validation", errInfo: { details: {} } }),
    "VALIDATION",
  );
  assert.equal(mapped.message, "Document rejected by the collection's validator");
});

Deno.test("mapMongoError() answers DB_ERROR for anything else, without the server's message", async (t) => {
  await t.step("an unknown server error", () => {
    const mapped = assertCode(
      new MongoServerError({ code: 13, codeName: "Unauthorized", errmsg: "not authorized on beds" }),
      "DB_ERROR",
    );
    assert.equal(mapped.message, "Database error");
    assert.deepEqual(mapped.details, { code: 13, codeName: "Unauthorized" });
  });
  await t.step("a plain Error", () => void assertCode(new Error("boom"), "DB_ERROR"));
  await t.step("a thrown string", () => void assertCode("boom", "DB_ERROR"));
  await t.step("a BedsError passes through unchanged", () => {
    const error = new BedsError("NOT_FOUND", "gone");
    assert.equal(mapMongoError(error), error);
  });
});

Deno.test("mapMongoError() answers DB_UNAVAILABLE past maxTimeMS (50), as MariaDB for its statement timeout", () => {
  const mapped = assertCode(
    new MongoServerError({ code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" }),
    "DB_UNAVAILABLE",
  );
  assert.ok(isTransient(mapped), "nothing was applied: retried as MariaDB's statement timeout is");
  assert.equal(mapped.message, "No answer from MongoDB within query_timeout_ms; try again");
  assert.deepEqual(mapped.details, { reason: "MaxTimeMSExpired", code: 50 });
});

/** A reply the primary applied whose write concern failed, as the driver throws it. */
function writeConcernFailed(writeConcernError: Record<string, unknown>, reply: Record<string, unknown> = {}) {
  return new MongoWriteConcernError({ ok: 1, n: 1, ...reply, writeConcernError } as never);
}

Deno.test("mapMongoError() answers DB_ERROR, never retried, for a write whose write concern failed", async (t) => {
  const cases: Array<[string, unknown]> = [
    [
      "not met within wtimeoutMS (64)",
      writeConcernFailed({
        code: 64,
        codeName: "WriteConcernFailed",
        errmsg: "waiting for replication timed out",
        errInfo: { wtimeout: true },
      }),
    ],
    [
      "unsatisfiable (100)",
      writeConcernFailed({ code: 100, codeName: "UnsatisfiableWriteConcern", errmsg: "no" }),
    ],
    [
      "maxTimeMS expired while waiting for it (50)",
      writeConcernFailed({ code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" }),
    ],
    [
      "a shutdown, labelled RetryableWriteError by the server (91)",
      writeConcernFailed(
        { code: 91, codeName: "ShutdownInProgress", errmsg: "shutting down" },
        { errorLabels: ["RetryableWriteError"] },
      ),
    ],
  ];
  for (const [name, error] of cases) {
    await t.step(name, () => {
      const mapped = assertCode(error, "DB_ERROR");
      assert.equal(isTransient(mapped), false, "a retry would apply the write again");
      assert.match(mapped.message, /applied on the primary, but its replication was not confirmed/);
      const { code, codeName } = error as { code: number; codeName: string };
      assert.deepEqual(mapped.details, { step: "replication", outcome: "unknown", code, codeName });
    });
  }
});
