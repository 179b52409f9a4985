/**
 * A fan-out's parts folded into their parent's record (`[logstore] fold_parts`)
 * and unfolded again on every read, so readers get the same records either
 * way. The folded form is {@link FoldedPart}.
 *
 * @module
 */
import type { PartEvent } from "./events.ts";
import {
  type FoldedPart,
  fromStoredRow,
  type LogRow,
  numberOrNull,
  opOf,
  type StoredEvent,
  textOrNull,
} from "./rows.ts";

/**
 * The folded form of part `n` (see {@link FoldedPart}), or undefined when the part must keep a
 * record of its own: a failure (to be found by its code), or anything its parent's record and
 * the part's six values could not give back.
 */
export function foldedPart(part: PartEvent, n: string): FoldedPart | undefined {
  if (part.code !== undefined || part.message) return undefined;
  return [n, part.template, opOf(part), part.call ?? null, part.ms, part.rows];
}

/** How many events a record stands for: itself and its folded parts. */
export function eventsIn(row: LogRow): number {
  return 1 + (row.parts?.length ?? 0);
}

/**
 * A stored record and the parts folded into it, each as the record it would have had on its
 * own: readers see the same records whether parts were folded or not (only the store's `id`,
 * which the parts share with their parent, tells them apart). A record without parts is
 * returned alone; an unreadable part is skipped.
 */
export function unfoldParts(record: StoredEvent): StoredEvent[] {
  const parts = record.doc.parts;
  if (!Array.isArray(parts)) return [record];
  const { parts: _, ...doc } = record.doc;
  const out: StoredEvent[] = [{ ...record, doc }];
  for (const part of parts) {
    if (!Array.isArray(part) || typeof part[0] !== "string" || !/^\d+$/.test(part[0])) continue;
    const call = textOrNull(part[3]);
    out.push({
      ...(record.id === undefined ? {} : { id: record.id }),
      event: `${record.event}.${part[0]}`,
      parent: record.event,
      kind: "request",
      level: "info",
      at: record.at,
      node: record.node,
      broker: record.broker,
      template: textOrNull(part[1]),
      op: textOrNull(part[2]),
      code: null,
      action: "reply",
      attempt: record.attempt,
      ms: numberOrNull(part[4]),
      rows: numberOrNull(part[5]),
      message: null,
      doc: call === null ? {} : { call },
    });
  }
  return out;
}

/**
 * The records of a store's reply (rows or documents), folded parts unfolded. The store chose its
 * rows by its own rules (MariaDB's collation ignores case and accents); a folded part came with its
 * parent, so `keepPart` decides on the parts alone, told the record they came with.
 */
export function storedRecords(
  data: unknown,
  keepPart: (part: StoredEvent, parent: StoredEvent) => boolean = () => true,
): StoredEvent[] {
  if (!Array.isArray(data)) return [];
  return data.flatMap((row) => {
    const [own, ...parts] = unfoldParts(fromStoredRow(row as Record<string, unknown>));
    return [own!, ...parts.filter((part) => keepPart(part, own!))];
  });
}
