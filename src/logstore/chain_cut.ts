/**
 * How much of one chain a read holds. A chain has no bound (a client may hang
 * any number of requests under one parent id), so a read holds its oldest
 * {@link CHAIN_LIMIT} stored records and, wherever they are, the record asked
 * for and those of the ids it extends, and says it was cut. The store reads
 * one record more than that (`sp_mst_chain` of lab/sql/005_logstore.sql, the
 * MongoDB read), which tells a chain of exactly that many from a longer one.
 *
 * @module
 */
import { parentId } from "../protocol/mod.ts";
import type { StoredEvent } from "./rows.ts";
import { storedRecords } from "./fold.ts";

/** Stored records of one chain a read holds at most, the oldest (besides the event asked for and its lineage). */
export const CHAIN_LIMIT = 10_000;

/** One chain as read. */
export interface ChainRead {
  /** Its records, oldest first, folded parts unfolded. */
  records: StoredEvent[];
  /**
   * The chain has more than {@link CHAIN_LIMIT} stored records: only the oldest are here, and the
   * event asked for with the records it extends.
   */
  cut: boolean;
}

/** `event` and every id it extends, nearest first: `a.b.c`, `a.b`, `a`. */
export function lineage(event: string): string[] {
  const ids: string[] = [];
  for (let id: string | undefined = event; id !== undefined; id = parentId(id)) ids.push(id);
  return ids;
}

/**
 * The stored rows a read keeps of the chain of `event`, from what the store answered (oldest
 * first: at most {@link CHAIN_LIMIT} + 1 of the chain, then any rows of `event`'s lineage past
 * them): all of them when there are no more than the limit; else the oldest {@link CHAIN_LIMIT}
 * and the rows of the lineage, `cut`.
 */
export function chainRows<T extends { event?: unknown }>(
  rows: readonly T[],
  event: string,
): { rows: T[]; cut: boolean } {
  if (rows.length <= CHAIN_LIMIT) return { rows: [...rows], cut: false };
  const wanted = new Set(lineage(event));
  const past = rows.slice(CHAIN_LIMIT).filter((row) => wanted.has(String(row.event)));
  return { rows: [...rows.slice(0, CHAIN_LIMIT), ...past], cut: true };
}

/** The chain of `event` as `sp_mst_chain` answers it (see {@link chainRows}), read. */
export function chainReadOf(answer: unknown, event: string): ChainRead {
  const { rows, cut } = chainRows(Array.isArray(answer) ? answer as Array<{ event?: unknown }> : [], event);
  return { records: storedRecords(rows), cut };
}
