/**
 * The id `beds dlq` gives each dead letter, and the choice of the one letter `replay --id` names.
 *
 * A request's `message_id` cannot name a letter: a client may reuse it, a request that ran twice
 * (its node lost its connection between storing the letter and acking the request) is kept twice
 * under it, and a letter RabbitMQ dead-lettered itself may have none. A letter's id is therefore a
 * digest of the letter as it lies in its queue: the same at every listing, and different for two
 * letters that differ in anything but the delivery counters RabbitMQ keeps on them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { AmqpAnyMessage } from "../amqp/mod.ts";

/** Hex digits of a letter's id: 64 bits, and a full digest decides between two that share one. */
export const LETTER_ID_LENGTH = 16;

/** Headers RabbitMQ adds or counts up each time a letter is taken and given back. */
const DELIVERY_COUNTERS: ReadonlySet<string> = new Set(["x-delivery-count", "x-acquired-count"]);

/** JSON with every object's keys sorted, and BigInts as text: the same value, the same text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const object = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(object).sort().map((k) => [k, object[k]]));
  });
}

/** The full digest of a letter: its queue, its properties (but the delivery counters) and its body. */
export function letterDigest(queue: string, msg: AmqpAnyMessage): string {
  const { headers, ...properties } = msg.properties;
  const kept = Object.entries(headers ?? {}).filter(([name]) => !DELIVERY_COUNTERS.has(name));
  return createHash("sha256")
    .update(canonical([queue, properties, Object.fromEntries(kept)]))
    .update("\0")
    .update(Buffer.from(msg.content))
    .digest("hex");
}

/** The id shown for a letter of this digest. */
export function letterId(digest: string): string {
  return digest.slice(0, LETTER_ID_LENGTH);
}

/** A listed letter with its full digest. */
export interface Digested<T> {
  letter: T;
  digest: string;
}

/** What an `--id` names among the listed letters. */
export type Selection<T> =
  | { kind: "none" }
  | { kind: "one"; letter: T; digest: string }
  | { kind: "ambiguous"; matches: T[] };

/**
 * The letter `id` names: the one whose id or `message_id` it is. Several letters alike in every
 * byte are one choice (whichever is taken, the same request runs); several that differ are
 * ambiguous, and the caller replays none of them.
 */
export function selectLetter<T extends { id: string; messageId: string }>(
  listed: ReadonlyArray<Digested<T>>,
  id: string,
): Selection<T> {
  const matches = listed.filter(({ letter }) => letter.id === id || letter.messageId === id);
  const first = matches[0];
  if (!first) return { kind: "none" };
  if (matches.every((m) => m.digest === first.digest)) {
    return { kind: "one", letter: first.letter, digest: first.digest };
  }
  return { kind: "ambiguous", matches: matches.map((m) => m.letter) };
}
