/**
 * The soak's closing account: once the queues have drained, every write is
 * applied (its row exists), kept in a dead-letter queue, or refused with an
 * error its client saw; anything else is lost.
 *
 * @module
 */
import amqp from "amqplib";
import mariadb from "mariadb";
import { type DeadLetter, listDeadLetters } from "../../src/brokers/mod.ts";
import { TRANSIENT_CODES } from "../../src/errors.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { type AdminDb, allQueues, queueCounts, type SoakEnv } from "./env.ts";
import type { LoadTally } from "./load.ts";

/** Where the writes ended up. */
export interface WriteAccount {
  applied: number;
  deadLettered: number;
  /** Answered with a non-transient error (e.g. CONFLICT on a reused SKU) and not applied. */
  refused: number;
  /** Not applied, not dead-lettered, and no final error reply: lost. */
  lost: string[];
  /** Answered ok, yet no row: the worst kind of lost. */
  lostAfterOk: string[];
}

/** The whole account. */
export interface SoakAccount {
  writes: WriteAccount;
  /** Messages in the role's dead-letter queues now (all of them, not only this run's). */
  deadLetters: number;
  /** Messages still in work or retry queues after the drain wait. */
  leftInQueues: number;
}

/** Waits up to `timeoutMs` for the role's work and retry queues to be empty; returns what is left. */
export async function drain(env: SoakEnv, timeoutMs: number): Promise<number> {
  const { work, retry } = allQueues(env);
  const end = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (const queue of [...work, ...retry]) left += (await queueCounts(env.amqpUrl, queue)).messages;
    if (left === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function appliedSkus(db: AdminDb, schema: string, skus: string[]): Promise<Set<string>> {
  const conn = await mariadb.createConnection({ ...db, database: schema });
  const found = new Set<string>();
  try {
    for (let i = 0; i < skus.length; i += 1000) {
      const chunk = skus.slice(i, i + 1000);
      const rows = await conn.query(
        `SELECT sku FROM products WHERE sku IN (${chunk.map(() => "?").join(",")})`,
        chunk,
      ) as Array<{ sku: string }>;
      for (const row of rows) found.add(row.sku);
    }
  } finally {
    await conn.end();
  }
  return found;
}

function skuOfLetter(letter: DeadLetter): string | undefined {
  try {
    const sku = (JSON.parse(letter.body) as { data?: { sku?: unknown } }).data?.sku;
    return typeof sku === "string" ? sku : undefined;
  } catch {
    return undefined;
  }
}

/** Accounts for every write of `tally`. */
export async function account(
  env: SoakEnv,
  db: AdminDb,
  tally: LoadTally,
  drainMs: number,
): Promise<SoakAccount> {
  const leftInQueues = await drain(env, drainMs);
  const skus = [...tally.writeOutcomes.keys()];
  const applied = await appliedSkus(db, env.schema, skus);
  const conn = await amqp.connect(env.amqpUrl);
  let letters: DeadLetter[];
  try {
    letters = await listDeadLetters(conn, allQueues(env).dead);
  } finally {
    await conn.close().catch(() => {});
  }
  const dead = new Set(letters.map(skuOfLetter).filter((s): s is string => s !== undefined));
  const writes: WriteAccount = { applied: 0, deadLettered: 0, refused: 0, lost: [], lostAfterOk: [] };
  for (const [sku, outcome] of tally.writeOutcomes) {
    if (applied.has(sku)) writes.applied++;
    else if (outcome === "ok") writes.lostAfterOk.push(sku);
    else if (dead.has(sku)) writes.deadLettered++;
    else if (outcome !== "no reply" && !TRANSIENT_CODES.has(outcome as ErrorCode)) writes.refused++;
    else writes.lost.push(sku);
  }
  return { writes, deadLetters: letters.length, leftInQueues };
}
