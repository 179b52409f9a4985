/**
 * Hostile input at volume: 1,100 generated malformed or hostile bodies (a
 * fixed fast-check seed, printed), half as requests with a reply_to, half
 * fire-and-forget to the routing keys of every op and template. Every one
 * is accounted for: answered with the predicted code, processed, or kept in
 * a dead-letter queue; the consumers live on, the queues drain and the
 * database is unchanged.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { retryQueueName } from "../../src/amqp/mod.ts";
import type { DeadLetter } from "../../src/brokers/mod.ts";
import type { Op } from "../../src/config/mod.ts";
import { ERROR_CODES } from "../../src/errors.ts";
import {
  AMQP_URL,
  cli,
  consumerCount,
  createTestEnv,
  dbQuery,
  readyCount,
  startNode,
  type TestEnv,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { runLoad } from "../helpers/faults.ts";
import { createOracle, generateHostile, type PredictedHostile, ROUTES } from "../helpers/hostile.ts";
import { expectOk } from "../helpers/replies.ts";

const DEFAULT_SEED = 1_337_2024;
const COUNT = 1100;
/** What a read that passed every check may still meet in the database. */
const READ_OUTCOMES = new Set(["ok", "NOT_FOUND"]);

interface BrokerCounts {
  broker: string;
  requests: number;
  deadLetters: number;
  restarts: number;
}

async function brokerCounts(env: TestEnv): Promise<BrokerCounts[]> {
  const run = await cli(["status", "--json", ...env.cliArgs]);
  assert.equal(run.code, 0, run.err);
  const nodes = JSON.parse(run.out) as Array<{ brokers: BrokerCounts[] }>;
  assert.equal(nodes.length, 1, "one node answers");
  return nodes[0]!.brokers;
}

const total = (counts: BrokerCounts[], field: "requests" | "deadLetters" | "restarts") =>
  counts.reduce((n, b) => n + b[field], 0);

async function checksums(env: TestEnv): Promise<Record<string, unknown>> {
  const rows = await dbQuery<Array<{ Table: string; Checksum: unknown }>>(
    env,
    "CHECKSUM TABLE customers, products, orders, order_items",
  );
  return Object.fromEntries(rows.map((r) => [r.Table, r.Checksum]));
}

function describe(seed: number, index: number, h: PredictedHostile): string {
  const head = new TextDecoder().decode(h.bytes.slice(0, 160));
  return `seed ${seed}, message ${index} (${h.kind}) to ${h.routingKey}: ${JSON.stringify(head)}`;
}

/** Where a message must end up: the dead-letter queue (with its reason) or nowhere. */
function expectedDeadLetter(h: PredictedHostile, hasReplyTo: boolean): string | undefined {
  const p = h.prediction;
  if (p.poison) return "poison";
  // A fire-and-forget write refused for its deadline is kept too (it never ran; it may be replayed).
  if (!hasReplyTo && p.op !== "read") return p.code === "DEADLINE_EXCEEDED" ? "deadline" : "unanswered_write";
  return undefined;
}

Deno.test("hostile input: every generated body is answered or dead-lettered, and nothing changes", async () => {
  const seed = Number(Deno.env.get("BEDS_HOSTILE_SEED") ?? DEFAULT_SEED);
  console.log(`hostile input seed ${seed} (reproduce with BEDS_HOSTILE_SEED=${seed})`);
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", `hostile-${env.id}`);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const messages = await generateHostile({ seed, count: COUNT, oracle: await createOracle(env.config) });
    const client = await env.client();
    const queues = workQueues(env);
    const stillServes = async () => {
      const row = expectOk(await client.request({ template: "cus", op: "read", key: { id: 1 } }));
      assert.equal(row.email, "ana.garcia@example.com");
    };
    await stillServes();
    const tablesBefore = await checksums(env);
    const consumersBefore = await Promise.all(queues.map(consumerCount));
    const countsBefore = await brokerCounts(env);
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

    const withReply = messages.filter((_, i) => i % 2 === 0);
    const fireAndForget = messages.filter((_, i) => i % 2 === 1);
    const fireRoutes = new Set(fireAndForget.map((h) => h.routingKey.split(".")[0]));
    assert.deepEqual([...fireRoutes].sort(), ["call", "create", "delete", "read", "update"]);
    assert.ok(new Set(messages.map((h) => h.routingKey)).size >= ROUTES.length / 2);

    // Fire-and-forget: raw publishes, each named by its message id for the DLQ check.
    const publisher = await conn.createConfirmChannel();
    const fireId = (i: number) => `hostile-${seed}-${i}`;
    for (const [i, h] of fireAndForget.entries()) {
      publisher.publish(env.exchange, h.routingKey, Buffer.from(h.bytes), {
        contentType: "application/json",
        messageId: fireId(i),
      });
    }
    await publisher.waitForConfirms();

    // With reply_to: through BedsClient, raw bodies, 32 in flight.
    const results = await runLoad(withReply.length, 32, (i) => {
      const [op, template] = withReply[i]!.routingKey.split(".") as [Op, string];
      return client.request({ template, op }, { rawBody: withReply[i]!.bytes });
    });
    const codes = new Map<string, number>();
    for (const [i, r] of results.entries()) {
      const h = withReply[i]!;
      const what = describe(seed, i * 2, h);
      assert.ok(r.reply, `no reply: ${r.error?.message}; ${what}`);
      const code = r.reply.ok ? "ok" : r.reply.error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (!r.reply.ok) assert.ok(ERROR_CODES.includes(r.reply.error.code), `unknown code ${code}; ${what}`);
      if (h.prediction.code) {
        assert.equal(code, h.prediction.code, `${JSON.stringify(r.reply)}; ${what}`);
      } else {
        assert.equal(h.prediction.op, "read", `only reads may pass validation; ${what}`);
        assert.ok(READ_OUTCOMES.has(code), `${JSON.stringify(r.reply)}; ${what}`);
      }
    }
    console.log(`replies by code: ${JSON.stringify(Object.fromEntries(codes))}`);

    // Every delivery was handled, and exactly the expected ones were dead-lettered.
    const expected = new Map<string, string>();
    for (const [i, h] of fireAndForget.entries()) {
      const reason = expectedDeadLetter(h, false);
      if (reason) expected.set(fireId(i), reason);
    }
    const expectedWithReply = withReply.filter((h) => expectedDeadLetter(h, true)).length;
    await waitFor(
      async () => total(await brokerCounts(env), "requests") - total(countsBefore, "requests") >= COUNT,
      20_000,
      "every message to be handled",
    );
    const list = await cli(["dlq", "list", "--json", "--role", "appServer", ...env.cliArgs]);
    assert.equal(list.code, 0, list.err);
    const letters = JSON.parse(list.out) as DeadLetter[];
    const fired = new Map(
      letters.filter((l) => l.messageId.startsWith(`hostile-${seed}-`)).map((l) => [l.messageId, l]),
    );
    for (const [i, h] of fireAndForget.entries()) {
      const letter = fired.get(fireId(i));
      assert.equal(
        letter?.reason,
        expected.get(fireId(i)),
        `${letter?.errorCode} vs predicted ${h.prediction.code}; ${describe(seed, i * 2 + 1, h)}`,
      );
    }
    assert.equal(
      letters.filter((l) => !l.messageId.startsWith(`hostile-${seed}-`) && l.reason === "poison").length,
      expectedWithReply,
    );
    assert.equal(letters.length, expected.size + expectedWithReply);
    const countsAfter = await brokerCounts(env);
    assert.equal(total(countsAfter, "requests") - total(countsBefore, "requests"), COUNT);
    assert.equal(
      total(countsAfter, "deadLetters") - total(countsBefore, "deadLetters"),
      expected.size + expectedWithReply,
    );
    assert.equal(total(countsAfter, "restarts"), 0, "no consumer crashed");

    // The consumers live on, the queues are empty and nothing changed.
    assert.deepEqual(await Promise.all(queues.map(consumerCount)), consumersBefore);
    await stillServes();
    for (const queue of queues) {
      assert.equal(await readyCount(queue), 0, `${queue} drained`);
      for (const [tier] of env.config.brokers[queue.split(".").at(-1)!]!.retry_delays_ms.entries()) {
        assert.equal(await readyCount(retryQueueName(queue, tier)), 0, "nothing was retried");
      }
    }
    assert.deepEqual(await checksums(env), tablesBefore, "the lab tables are unchanged");
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore);
    for (const key in {}) assert.fail(`Object.prototype gained an enumerable "${key}"`);
    assert.equal(await node.stop(), 0);
    for (const queue of queues) assert.equal(await readyCount(queue), 0, `${queue} left nothing unacked`);
  } finally {
    await conn.close().catch(() => {});
    await node.stop();
    await env.cleanup();
  }
});
