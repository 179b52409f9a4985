/**
 * The MongoDB adapter with the real driver against a scripted stand-in
 * (tests/helpers/fake_mongo.ts): a write the primary applied whose write
 * concern failed is answered as such and not retried, and a server that
 * stops answering holds a read no longer than `query_timeout_ms` and the
 * socket's margin, the read sent once.
 */
import assert from "node:assert/strict";
import type { Document } from "mongodb";
import { createMongodbAdapter, type MongodbAdapter } from "../../src/adapters/mongodb/mod.ts";
import { SOCKET_MARGIN_MS } from "../../src/adapters/mongodb/options.ts";
import { decide } from "../../src/brokers/retry_policy.ts";
import type { BedsError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";
import { fakeMongo, type MongoScript } from "../helpers/fake_mongo.ts";

const TEMPLATE = compileTemplate(
  "tpl/mwf.toml",
  `[template]
name = "mwf"
store = "mongodb"
database = "app"
collection = "things"

[fields.id]
type = "string"

[fields.name]
type = "string"

[ops.read]
key = ["id"]

[ops.create]
params = ["id", "name"]
key = ["id"]
`,
);
if (TEMPLATE.kind !== "rec") throw new Error("a REC template");

const QUERY_TIMEOUT_MS = 1000;

function adapterOn(port: number): MongodbAdapter {
  return createMongodbAdapter({
    config: {
      url: `mongodb://127.0.0.1:${port}`,
      database: "app",
      optional: false,
      connect_timeout_ms: 1000,
      query_timeout_ms: QUERY_TIMEOUT_MS,
      databases: {},
    },
    logger: silentLogger(),
  });
}

/** Runs `work` with an adapter on a stand-in answering as `script` says. */
async function withStandIn(
  script: MongoScript,
  work: (adapter: MongodbAdapter, mongo: ReturnType<typeof fakeMongo>) => Promise<void>,
): Promise<void> {
  const mongo = fakeMongo(script);
  mongo.up();
  const adapter = adapterOn(mongo.port);
  try {
    await adapter.open();
    await work(adapter, mongo);
  } finally {
    await adapter.close();
    mongo.close();
  }
}

/** What BEDS does with a create that failed so: reply, or retry through a delay tier. */
function afterCreate(error: BedsError) {
  return decide({
    code: error.code,
    op: "create",
    attempt: 1,
    retryDelaysMs: [1000, 5000, 30000],
    maxAttempts: 4,
    now: Date.now(),
    hasReplyTo: true,
  });
}

const WTIMEOUT = {
  code: 64,
  codeName: "WriteConcernFailed",
  errmsg: "waiting for replication timed out",
  errInfo: { wtimeout: true },
};

Deno.test("a create whose write concern times out is stored once and answered, not retried", async () => {
  // The stand-in stores the document, as a primary does, then reports the replication it waited for.
  const script: MongoScript = (command, reply) =>
    command.insert ? { ...reply, writeConcernError: WTIMEOUT } : reply;
  await withStandIn(script, async (adapter, mongo) => {
    // No id: the adapter makes a new ObjectId, so a second attempt would be a second document.
    const error = await adapter.create({ template: TEMPLATE, values: new Map([["name", "once"]]) })
      .then(() => assert.fail("the write concern failed"), (e: BedsError) => e);
    assert.equal(error.code, "DB_ERROR", error.message);
    assert.deepEqual(error.details, {
      step: "replication",
      outcome: "unknown",
      code: 64,
      codeName: "WriteConcernFailed",
    });
    assert.deepEqual(afterCreate(error), { action: "reply" }, "BEDS does not run it again");
    assert.deepEqual(mongo.documents("app", "things").map((d) => d.name), ["once"]);
  });
});

Deno.test("a read on a server that stopped answering fails within query_timeout_ms + the socket margin, sent once", async () => {
  const finds: Document[] = [];
  const script: MongoScript = (command, reply) => {
    if (!command.find) return reply;
    finds.push(command);
    return null;
  };
  await withStandIn(script, async (adapter) => {
    const started = performance.now();
    await assert.rejects(
      () =>
        adapter.read({
          template: TEMPLATE,
          key: new Map([["id", "a"]]),
          where: new Map(),
          order: [],
          limit: 1,
          offset: 0,
          params: new Map(),
        }),
      (e: BedsError) => e.code === "DB_UNAVAILABLE",
    );
    const waited = performance.now() - started;
    const bound = QUERY_TIMEOUT_MS + SOCKET_MARGIN_MS;
    assert.ok(waited < bound + 1500, `answered after ${Math.round(waited)} ms; the bound is ${bound} ms`);
    assert.equal(finds.length, 1, "the driver did not send the read again");
  });
});
