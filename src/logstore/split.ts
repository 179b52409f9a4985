/**
 * Batches cut by size: a batch of log records, or of the admin role's log lines, must fit in one
 * message or statement whatever the records hold (an AMQP request body under `[limits]
 * max_body_bytes`, a MariaDB call under its `max_allowed_packet`).
 *
 * @module
 */

/** Room for the envelope around the rows (a request's other fields, a statement's text). */
const ENVELOPE_BYTES = 256;

const encoder = new TextEncoder();

/** The UTF-8 bytes of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/**
 * Splits rows, in order, into batches whose JSON array (with room for the envelope around it)
 * stays under `maxBytes`, each row weighing `sizeOf` (by default the UTF-8 bytes of its JSON;
 * give the length of a text already made to spare a second encoding). A row larger than that on
 * its own goes alone (the admin node answers it TOO_LARGE and dead-letters it, where it can still
 * be read; MariaDB refuses it, and it alone).
 */
export function splitBySize<T>(
  rows: readonly T[],
  maxBytes: number,
  sizeOf: (row: T) => number = jsonBytes,
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let size = 2;
  for (const row of rows) {
    const bytes = sizeOf(row) + 1;
    if (batch.length && size + bytes > maxBytes - ENVELOPE_BYTES) {
      batches.push(batch);
      batch = [];
      size = 2;
    }
    batch.push(row);
    size += bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}
