/**
 * The soak's load: reads (by key, lists, a REL fan-out) and writes (product
 * creates with unique SKUs, so each can be found afterwards), closed-loop
 * (`concurrency` workers) or open-loop (`rate` per second, at most
 * `concurrency` in flight). The client reconnects when a fault closes it;
 * whatever was in flight then counts as "no reply".
 *
 * @module
 */
import { BedsClientError, createReconnectingClient, type RequestBody } from "../../src/client/mod.ts";
import type { AmqpConfig } from "../../src/config/mod.ts";

/** Options for {@link runLoad}. */
export interface LoadOptions {
  amqp: AmqpConfig;
  seconds: number;
  /** Requests per second (open loop); closed loop when undefined. */
  rate?: number;
  /** Workers (closed loop) or most requests in flight (open loop). */
  concurrency: number;
  /** Share of writes, 0–1. */
  writeShare: number;
  /** Time a request waits for its reply (also its deadline). */
  timeoutMs: number;
  /** First of the run's three-letter SKU prefixes, 0–17575 (a random one keeps runs apart). */
  skuBase: number;
  /** Progress lines. */
  log: (line: string) => void;
  /** Extra text for each progress line (e.g. the node's RSS). */
  status?: () => string;
}

/** What became of every request. */
export interface LoadTally {
  sent: number;
  reads: number;
  writes: number;
  /** Replies by outcome: "ok" or the error code. */
  replies: Map<string, number>;
  /** Requests without a reply, by client error kind. */
  noReply: Map<string, number>;
  /** Open loop only: requests not sent because `concurrency` were in flight. */
  shed: number;
  /** Per write SKU: "ok", an error code, or "no reply". */
  writeOutcomes: Map<string, string>;
}

/** The three-letter-and-four-digit SKU of write `i`. */
export function skuOf(base: number, i: number): string {
  let n = (base + Math.floor(i / 10_000)) % 17_576;
  let letters = "";
  for (let k = 0; k < 3; k++) {
    letters = String.fromCharCode(65 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  }
  return `${letters}-${String(i % 10_000).padStart(4, "0")}`;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

function readOf(i: number): RequestBody {
  switch (i % 10) {
    case 0:
      return { template: "cov", op: "read", key: { id: 1 + (i % 20) } };
    case 1:
    case 2:
      return { template: "ord", op: "read", where: { customer_id: 1 + (i % 20) }, limit: 10 };
    case 3:
    case 4:
    case 5:
      return { template: "prd", op: "read", key: { id: 1 + (i % 30) } };
    default:
      return { template: "cus", op: "read", key: { id: 1 + (i % 20) } };
  }
}

/** Runs the load for `options.seconds` and returns the tally once every request has settled. */
export async function runLoad(options: LoadOptions): Promise<LoadTally> {
  const tally: LoadTally = {
    sent: 0,
    reads: 0,
    writes: 0,
    replies: new Map(),
    noReply: new Map(),
    shed: 0,
    writeOutcomes: new Map(),
  };
  const end = Date.now() + options.seconds * 1000;
  // Requests made while the broker is away wait for the reconnect instead of failing at once.
  const client = createReconnectingClient({
    amqp: options.amqp,
    timeoutMs: options.timeoutMs,
    name: "beds soak load",
    maxBackoffMs: 1000,
  });
  await client.open();

  let inflight = 0;
  let writeIndex = 0;
  let readIndex = 0;
  let pick = 0;
  const one = async () => {
    const write = (pick++ % 1000) < options.writeShare * 1000;
    const sku = write ? skuOf(options.skuBase, writeIndex++) : undefined;
    const body: RequestBody = sku
      ? { template: "prd", op: "create", data: { sku, name: `soak ${sku}`, price: "1.00", stock: 1 } }
      : readOf(readIndex++);
    tally.sent++;
    if (sku) tally.writes++;
    else tally.reads++;
    inflight++;
    try {
      const reply = await client.request(body, { waitForConnection: true });
      const outcome = reply.ok ? "ok" : reply.error.code;
      bump(tally.replies, outcome);
      if (sku) tally.writeOutcomes.set(sku, outcome);
    } catch (error) {
      bump(tally.noReply, error instanceof BedsClientError ? error.kind : (error as Error).name);
      if (sku) tally.writeOutcomes.set(sku, "no reply");
    } finally {
      inflight--;
    }
  };

  const progress = setInterval(() => {
    const answered = [...tally.replies.values()].reduce((a, b) => a + b, 0);
    const errors = answered - (tally.replies.get("ok") ?? 0);
    const missing = [...tally.noReply.values()].reduce((a, b) => a + b, 0);
    options.log(
      `sent ${tally.sent}, answered ${answered} (errors ${errors}), no reply ${missing}, in flight ${inflight}${
        options.status ? `, ${options.status()}` : ""
      }`,
    );
  }, 5000);
  try {
    if (options.rate === undefined) {
      await Promise.all(Array.from({ length: options.concurrency }, async () => {
        while (Date.now() < end) await one();
      }));
    } else {
      const started = Date.now();
      const running = new Set<Promise<void>>();
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - started) / 1000) * options.rate) - tally.sent - tally.shed;
        for (let i = 0; i < due; i++) {
          if (inflight >= options.concurrency) {
            tally.shed++;
            continue;
          }
          const p = one().finally(() => running.delete(p));
          running.add(p);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(running);
    }
  } finally {
    clearInterval(progress);
    await client.close();
  }
  return tally;
}
