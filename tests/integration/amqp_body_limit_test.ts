/**
 * RabbitMQ takes bodies up to its `max_message_size` (128 MiB on 3.x) from anyone who may publish,
 * and amqplib assembled each in a node's memory before the node compared it with `[limits]
 * max_body_bytes` and dead-lettered the whole of it: 16 bodies of 96 MiB grew a node by 2.5 GB.
 * The frame guard keeps only the first `max_body_bytes` of such a body; the node answers TOO_LARGE
 * with the size it was published with, and its dead letter keeps the start and that size.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { deadLetterQueueName, HEADERS, workQueueName } from "../../src/amqp/mod.ts";
import { AMQP_URL, cli, createTestEnv, readyCount, startNode, waitFor } from "../helpers/services.ts";

const BODIES = 10;
const MIB = 48;
const SIZE = MIB * 2 ** 20;
const LIMIT = 65_536;
/**
 * Half of what is published. Holding the bodies, a node grew by twice all of it (959 MiB for these
 * 480 MiB); cutting them, by the garbage of reading them off the socket until V8 collects it (110 to
 * 130 MiB here, about the same for 6 bodies of 40 MiB as for 10 of 48).
 */
const MAX_GROWTH = (BODIES * SIZE) / 2;

/** This process's peak resident memory since the last {@link resetPeak} (Linux). */
function peakRss(): number {
  const kib = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+)/)?.[1];
  return Number(kib) * 1024;
}

/** Makes the peak the current resident memory. */
function resetPeak(): void {
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
}

interface ErrorReply {
  ok: false;
  error: { code: string; message: string; details: { limit: number; size: number } };
}

Deno.test("a node's memory stays far below the size of the bodies published to it", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const dlq = deadLetterQueueName(workQueueName(env.queuePrefix, "appServer", "rBroker"));
  try {
    // Settled first: the node's own start and the first requests' allocations are not the bodies'.
    const client = await env.client();
    await client.request({ template: "zzz", op: "read" }, { timeoutMs: 3_000 });
    resetPeak();
    const before = peakRss();
    // Published from another process: its own copies of the bodies are not this process's.
    const publisher = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../helpers/big_publisher.ts", import.meta.url).pathname,
        env.exchange,
        "read.zzz",
        String(BODIES),
        String(MIB),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(publisher.success, new TextDecoder().decode(publisher.stderr));
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 500));
        return (await readyCount(dlq)) >= BODIES;
      },
      60_000,
      "the dead letters",
    );
    const growth = peakRss() - before;
    console.log(
      `peak resident memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB for ${BODIES} x ${MIB} MiB`,
    );
    assert.ok(growth < MAX_GROWTH, `grew by ${growth} bytes`);

    // Answered as before: TOO_LARGE, with the limit and the size the body was published with.
    const replies = JSON.parse(new TextDecoder().decode(publisher.stdout)) as ErrorReply[];
    assert.equal(replies.length, BODIES);
    for (const reply of replies) {
      assert.equal(reply.error.code, "TOO_LARGE");
      assert.deepEqual(reply.error.details, { limit: LIMIT, size: SIZE });
      assert.equal(reply.error.message, `Request body of ${SIZE} bytes exceeds the limit of ${LIMIT}`);
    }

    // Dead-lettered as poison with only the body's start, and the size it had.
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      for (let i = 0; i < BODIES; i++) {
        const letter = await ch.get(dlq, { noAck: false });
        assert.ok(letter, "a dead letter");
        assert.equal(letter.content.length, LIMIT);
        assert.ok(letter.content.toString("latin1").startsWith('{"template":"zzz"'));
        const headers = letter.properties.headers!;
        assert.equal(headers[HEADERS.bodySize], SIZE);
        assert.equal(headers[HEADERS.errorCode], "TOO_LARGE");
        assert.equal(headers["x-beds-reason"], "poison");
      }
      await ch.close(); // the letters go back
    } finally {
      await conn.close();
    }

    // It cannot run, so replay keeps it rather than fail it again.
    const replay = await cli(["dlq", "replay", "--all", "--broker", "rBroker", ...env.cliArgs]);
    assert.equal(replay.code, 1, replay.err);
    assert.match(replay.err, new RegExp(`body was kept cut to its first ${LIMIT} of ${SIZE} bytes`));
    assert.equal(await readyCount(dlq), BODIES);

    // And the node serves on.
    const read = await client.request({ template: "zzz", op: "read" }, { timeoutMs: 3_000 });
    assert.equal(read.ok ? "ok" : read.error.code, "UNKNOWN_TEMPLATE");
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a publisher's own x-beds-body-size does not make a small request too large", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const replies = new Map<string, unknown>();
    await ch.consume("amq.rabbitmq.reply-to", (msg) => {
      if (msg) replies.set(msg.properties.correlationId, JSON.parse(msg.content.toString("utf8")));
    }, { noAck: true });
    const body = JSON.stringify({ template: "cus", op: "read", key: { id: 1 } });
    ch.publish(env.exchange, "read.cus", Buffer.from(body), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "forged",
      headers: { [HEADERS.bodySize]: 99_999_999, "x-beds-body-cut": "99999999" },
    });
    await waitFor(() => Promise.resolve(replies.has("forged")), 5_000, "the reply");
    assert.equal((replies.get("forged") as { ok: boolean }).ok, true, JSON.stringify(replies.get("forged")));
  } finally {
    await conn.close();
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
