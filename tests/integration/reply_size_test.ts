/**
 * A reply larger than `[limits] max_reply_bytes` is answered TOO_LARGE in its place, once, and the
 * delivery is acked: RabbitMQ refuses a message past its max_message_size by closing the
 * consumer's channel, and the request went back to its queue and ran again (a write too), for ever.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { deadLetterQueueName, workQueueName } from "../../src/amqp/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import { expectError, expectOk } from "../helpers/replies.ts";
import {
  AMQP_URL,
  cli,
  createTestEnv,
  dbQuery,
  readyCount,
  ROOT,
  startNode,
  type TestEnv,
} from "../helpers/services.ts";

/** `big`: a view of documents, and a call that records itself and returns `size` bytes per row. */
const BIG = `[template]
name = "big"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.size]
type = "int"
min = 1
max = 16000000

[ops.read]
view = "v_big"
key = ["id"]
where = ["id"]

[calls.export]
procedure = "sp_big_export"
params = ["id", "size"]
required = ["id", "size"]
`;

const SETUP = [
  "CREATE TABLE big_docs (id INT PRIMARY KEY, doc MEDIUMTEXT NOT NULL)",
  "INSERT INTO big_docs VALUES (1, REPEAT('a', 3000)), (2, REPEAT('b', 3000)), (3, 'small')",
  "CREATE VIEW v_big AS SELECT id, doc FROM big_docs",
  "CREATE TABLE big_calls (id INT NOT NULL)",
  // Two rows, so that a reply past 16 MiB needs no row past MariaDB's max_allowed_packet.
  `CREATE PROCEDURE sp_big_export(IN p_id INT, IN p_size INT) BEGIN
     INSERT INTO big_calls (id) VALUES (p_id);
     SELECT p_id AS id, REPEAT('x', p_size) AS doc UNION ALL SELECT p_id, REPEAT('y', p_size);
   END`,
];

/** Every reply that comes for each correlation id, on a channel of its own. */
interface Replies {
  /** Publishes `body` with direct reply-to and waits for its first reply. */
  request(routingKey: string, body: unknown): Promise<Reply>;
  /** All replies received for the request answered by `reply`. */
  count(reply: Reply): number;
  close(): Promise<void>;
}

async function openReplies(env: TestEnv): Promise<Replies> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  const received = new Map<string, Reply[]>();
  const waiting = new Map<string, (reply: Reply) => void>();
  await ch.consume("amq.rabbitmq.reply-to", (msg) => {
    if (!msg) return;
    const id = msg.properties.correlationId as string;
    const reply = JSON.parse(msg.content.toString("utf8")) as Reply;
    received.set(id, [...received.get(id) ?? [], reply]);
    waiting.get(id)?.(reply);
    waiting.delete(id);
  }, { noAck: true });
  let seq = 0;
  const ids = new Map<Reply, string>();
  return {
    request(routingKey, body) {
      const id = `size-${seq++}`;
      return new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${routingKey} within 20 s`)), 20_000);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          ids.set(reply, id);
          resolve(reply);
        });
        ch.publish(env.exchange, routingKey, Buffer.from(JSON.stringify(body)), {
          replyTo: "amq.rabbitmq.reply-to",
          correlationId: id,
          contentType: "application/json",
        });
      });
    },
    count: (reply) => received.get(ids.get(reply)!)?.length ?? 0,
    async close() {
      await ch.close().catch(() => {});
      await conn.close().catch(() => {});
    },
  };
}

/** Runs `work` against a node serving `big`, with `extraToml` in its env. */
async function withBig(
  extraToml: string,
  work: (env: TestEnv, replies: Replies) => Promise<void>,
): Promise<void> {
  const dir = await templatesWith(ROOT, { "big_rec.toml": BIG });
  const env = await createTestEnv({ templatesDir: dir, extraToml });
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  let replies: Replies | undefined;
  try {
    for (const sql of SETUP) await dbQuery(env, sql);
    node = await startNode(env);
    replies = await openReplies(env);
    await work(env, replies);
  } finally {
    await replies?.close();
    if (node) assert.equal(await node.stop(), 0);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

const calls = async (env: TestEnv, id: number) =>
  (await dbQuery<Array<{ n: number }>>(env, "SELECT COUNT(*) AS n FROM big_calls WHERE id = ?", [id]))[0]!.n;

Deno.test("a reply over max_reply_bytes is answered TOO_LARGE once, its delivery acked, its write run once", async () => {
  await withBig("[limits]\nmax_reply_bytes = 4096\n", async (env, replies) => {
    // A read: the rows are there, but too many bytes of them.
    const read = await replies.request("read.big", { template: "big", op: "read", where: { id: [1, 2] } });
    const readError = expectError(read, "TOO_LARGE");
    assert.match(
      readError.message,
      /^The result \(\d+ bytes\) is too large to send: .* 4096 bytes; read fewer rows$/,
    );
    const { limit, size } = readError.details as { limit: number; size: number };
    assert.equal(limit, 4096);
    assert.ok(size > 6000, `size ${size}`);
    assert.equal(read.meta.rows, 0);
    // Under the limit, a reply goes as it is.
    assert.deepEqual(
      expectOk(await replies.request("read.big", { template: "big", op: "read", key: { id: 3 } })),
      { id: 3, doc: "small" },
    );

    // A call: it ran, and says so; it is not run again.
    const call = await replies.request("call.big", {
      template: "big",
      op: "call",
      call: "export",
      key: { id: 7, size: 5000 },
    });
    assert.match(
      expectError(call, "TOO_LARGE").message,
      /^The call ran, but its result \(\d+ bytes\) is too large/,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(replies.count(call), 1, "one reply");
    assert.equal(await calls(env, 7), 1, "the call ran once");

    // Acked once: nothing back in the queue or its dead-letter queue, no consumer restarted.
    const queue = workQueueName(env.queuePrefix, "appServer", "mBroker");
    assert.equal(await readyCount(queue), 0);
    assert.equal(await readyCount(deadLetterQueueName(queue)), 0);
    const status = await cli(["status", "--json", ...env.cliArgs]);
    assert.equal(status.code, 0, status.err);
    const brokers =
      (JSON.parse(status.out) as Array<{ brokers: Array<Record<string, unknown>> }>)[0]!.brokers;
    const mBroker = brokers.find((b) => b.broker === "mBroker")!;
    assert.equal(mBroker.requests, 1, JSON.stringify(mBroker));
    assert.equal(mBroker.inflight, 0);
    assert.equal(mBroker.restarts, 0);
    assert.equal((mBroker.lastError as { code: string }).code, "TOO_LARGE");
    assert.equal(brokers.find((b) => b.broker === "rBroker")!.restarts, 0);
  });
});

Deno.test("by default a reply over 16 MiB is answered TOO_LARGE, well below RabbitMQ's max_message_size", async () => {
  await withBig("", async (env, replies) => {
    const call = await replies.request("call.big", {
      template: "big",
      op: "call",
      call: "export",
      key: { id: 8, size: 9_000_000 },
    });
    assert.equal(call.ok, false, "the result was sent as it is");
    const error = expectError(call, "TOO_LARGE");
    assert.ok((error.details as { size: number }).size > 18_000_000, JSON.stringify(error));
    assert.ok(Buffer.byteLength(JSON.stringify(call)) < 1024, "the reply sent is small");
    assert.equal(await calls(env, 8), 1);
    assert.equal(env.config.limits.max_reply_bytes, 16 * 1024 * 1024);
  });
});
