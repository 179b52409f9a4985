/**
 * The raw ceiling as a service, run as its own process so its CPU time is
 * read exactly like the BEDS node's. Plain amqplib (Nagle off), the same
 * queues, queue types, `instances` and `prefetch` as the node's brokers, and
 * replies through the request's reply-to (direct reply-to) with its
 * correlation id. No BEDS code on the path.
 *
 * - `echo`: replies at once with a body of the same size BEDS's reply has
 *   for that routing key; no parsing, no database.
 * - `echo_db`: the naive raw service: parses the request, runs the same
 *   statements BEDS runs (directly with the mariadb driver) and replies
 *   with the JSON of the rows.
 *
 * Usage: `deno run -A lab/bench/raw_service.ts CONFIG.json`; prints `ready`
 * once every consumer is attached and stops on SIGTERM.
 *
 * @module
 */
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { coalesceWrites } from "../../src/amqp/connection.ts";
import { openRawDb, type RawDbOptions } from "./raw_db.ts";
import { rawStatements, type RawStatementSpec } from "./scenario.ts";

/** One queue of the raw service, mirroring a BEDS broker. */
export interface RawQueue {
  name: string;
  bindings: string[];
  type: "classic" | "quorum";
  instances: number;
  prefetch: number;
}

/** What a raw service process is told to do. */
export interface RawServiceConfig {
  mode: "echo" | "echo_db";
  amqpUrl: string;
  exchange: string;
  queues: RawQueue[];
  /** `echo`: reply size in bytes per routing key. */
  replyBytes?: Record<string, number>;
  /** `echo_db`: raw statements per routing key. */
  statements?: Record<string, RawStatementSpec[]>;
  /** `echo_db`: how to reach the database. */
  db?: RawDbOptions;
  /**
   * Coalesce the socket writes of one event-loop turn into one, as BEDS's
   * `connectAmqp` does (`coalesceWrites`). For `cork_check.ts`; off by
   * default, so the raw ceiling is plain amqplib.
   */
  cork?: boolean;
}

/** Applies BEDS's write coalescing (the very hook `connectAmqp` installs) to a plain amqplib connection. */
export function corkMuxer(model: amqp.ChannelModel): void {
  if (!coalesceWrites(model)) throw new Error("amqplib internals changed: no connection.muxer");
}

/** A JSON reply body of exactly `bytes` bytes (at least the empty envelope). */
export function paddedReply(bytes: number): Buffer {
  const empty = '{"ok":true,"data":""}';
  return Buffer.from(`{"ok":true,"data":"${"x".repeat(Math.max(0, bytes - empty.length))}"}`);
}

async function serve(config: RawServiceConfig): Promise<() => Promise<void>> {
  const conn = await amqp.connect(config.amqpUrl, { noDelay: true });
  if (config.cork) corkMuxer(conn);
  const db = config.mode === "echo_db" ? await openRawDb(config.db!) : undefined;
  const replies = new Map(
    Object.entries(config.replyBytes ?? {}).map(([key, bytes]) => [key, paddedReply(bytes)]),
  );
  const fallback = paddedReply(64);
  const setup = await conn.createChannel();
  await setup.assertExchange(config.exchange, "topic", { durable: true });
  for (const q of config.queues) {
    await setup.assertQueue(q.name, { durable: true, arguments: { "x-queue-type": q.type } });
    for (const key of q.bindings) await setup.bindQueue(q.name, config.exchange, key);
  }
  await setup.close();

  for (const q of config.queues) {
    for (let i = 0; i < q.instances; i++) {
      const ch = await conn.createChannel();
      await ch.prefetch(q.prefetch);
      await ch.consume(q.name, (msg) => {
        if (!msg) return;
        const { replyTo, correlationId } = msg.properties;
        if (!db) {
          ch.publish("", replyTo, replies.get(msg.fields.routingKey) ?? fallback, { correlationId });
          ch.ack(msg);
          return;
        }
        const started = performance.now();
        const reply = (body: unknown) => {
          ch.publish("", replyTo, Buffer.from(JSON.stringify(body)), {
            correlationId,
            contentType: "application/json",
          });
          ch.ack(msg);
        };
        try {
          const body = JSON.parse(msg.content.toString("utf8"));
          const specs = config.statements?.[msg.fields.routingKey] ?? [];
          db.run(rawStatements(specs, body)).then(
            (results) =>
              reply({
                ok: true,
                data: results.length === 1 ? results[0] : results,
                meta: { ms: performance.now() - started },
              }),
            (error) => reply({ ok: false, error: { code: "DB_ERROR", message: (error as Error).message } }),
          );
        } catch (error) {
          reply({ ok: false, error: { code: "BAD_REQUEST", message: (error as Error).message } });
        }
      });
    }
  }
  return async () => {
    await conn.close().catch(() => {});
    await db?.close();
  };
}

if (import.meta.main) {
  const config = JSON.parse(await Deno.readTextFile(Deno.args[0]!)) as RawServiceConfig;
  const close = await serve(config);
  console.log("ready");
  const stop = async () => {
    await close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
