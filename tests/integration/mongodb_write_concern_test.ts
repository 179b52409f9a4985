/**
 * A write the MongoDB primary applied whose write concern then failed (the
 * replication it waited for timed out, 64 with `errInfo.wtimeout`), through a
 * node and its retry tiers, against the stand-in (tests/helpers/fake_mongo.ts):
 * answered DB_ERROR at once, never retried, so one request stores one
 * document even when BEDS makes its identity (a new ObjectId per attempt).
 */
import assert from "node:assert/strict";
import { BSON } from "mongodb";
import { retryQueueName, workQueueName } from "../../src/amqp/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { fakeMongo, type MongoScript } from "../helpers/fake_mongo.ts";
import { templatesWith } from "../helpers/files.ts";
import { createTestEnv, readyCount, ROOT, startNode } from "../helpers/services.ts";

type Failed = Extract<Reply, { ok: false }>;

/** The reply to `listCollections`: the node's start checks that its templates' collections exist. */
function collections(database: string, names: string[]) {
  const firstBatch = names.map((name) => ({ name, type: "collection" }));
  return {
    cursor: { id: BSON.Long.fromNumber(0), ns: `${database}.$cmd.listCollections`, firstBatch },
    ok: 1,
  };
}

Deno.test("a create whose write concern times out stores one document and answers DB_ERROR, not retried", async () => {
  let timeOuts = 1;
  // The first insert is stored (as a primary applies it) and its replication then times out.
  const script: MongoScript = (command, reply) => {
    if (command.listCollections) return collections(command.$db, ["customers"]);
    if (!command.insert || timeOuts-- <= 0) return reply;
    const writeConcernError = {
      code: 64,
      codeName: "WriteConcernFailed",
      errmsg: "waiting for replication timed out",
      errInfo: { wtimeout: true },
    };
    return { ...reply, writeConcernError };
  };
  const mongo = fakeMongo(script);
  mongo.up();
  const templatesDir = await templatesWith(ROOT, {
    "mcu_rec.toml": await Deno.readTextFile(`${ROOT}/tests/testdata/mongo_templates/mcu_rec.toml`),
  });
  const env = await createTestEnv({
    extraToml:
      `\n[databases.mongodb]\nurl = "mongodb://127.0.0.1:${mongo.port}"\nconnect_timeout_ms = 1000\n`,
    templatesDir,
  });
  try {
    const node = await startNode(env, "appServer", `mwc-${env.id}`);
    try {
      const client = await env.client();
      // No id: each attempt would make a new ObjectId, and store a second document.
      const reply = await client.request({
        template: "mcu",
        op: "create",
        data: { email: "ana.garcia@example.com", name: "Ana García" },
      }) as Failed;
      assert.equal(reply.ok, false, JSON.stringify(reply));
      assert.equal(reply.error.code, "DB_ERROR", JSON.stringify(reply));
      assert.deepEqual(reply.error.details, {
        step: "replication",
        outcome: "unknown",
        code: 64,
        codeName: "WriteConcernFailed",
      });
      assert.doesNotMatch(reply.meta.event, /\.r\d+$/, "answered by the first attempt");
      const work = workQueueName(env.queuePrefix, "appServer", "wBroker");
      assert.equal(await readyCount(retryQueueName(work, 0)), 0, "no retry copy waits");
      assert.deepEqual(mongo.documents("lab", "customers").map((d) => d.name), ["Ana García"]);
    } finally {
      assert.equal(await node.stop(), 0);
    }
  } finally {
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
    mongo.close();
  }
});
