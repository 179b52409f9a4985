/**
 * Run as its own process (`deno run -A big_publisher.ts EXCHANGE KEY COUNT MIB`): publishes COUNT
 * bodies of MIB MiB each as guest, with direct reply-to, waits for their replies and prints them as
 * one JSON array. Its own process, so that the bodies it holds are not counted in the memory of the
 * test, which runs the node.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import amqp from "amqplib";

const [exchange, routingKey, count, mib] = Deno.args;
const n = Number(count);
const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
try {
  const ch = await conn.createConfirmChannel();
  const replies: unknown[] = [];
  const all = new Promise<void>((resolve) => {
    ch.consume("amq.rabbitmq.reply-to", (msg) => {
      if (!msg) return;
      replies.push(JSON.parse(msg.content.toString("utf8")));
      if (replies.length === n) resolve();
    }, { noAck: true });
  });
  // A JSON request whose data runs on past any limit: only its size is wrong.
  const head = Buffer.from('{"template":"zzz","op":"read","where":{"x":"');
  const body = Buffer.alloc(Number(mib) * 2 ** 20, 0x20);
  head.copy(body);
  for (let i = 0; i < n; i++) {
    ch.publish(exchange!, routingKey!, body, { replyTo: "amq.rabbitmq.reply-to", correlationId: `big-${i}` });
  }
  await ch.waitForConfirms();
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000));
  await Promise.race([all, timeout]);
  console.log(JSON.stringify(replies));
} finally {
  await conn.close();
}
Deno.exit(0);
