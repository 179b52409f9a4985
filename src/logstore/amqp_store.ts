/**
 * The log store of a node that has no database of its own for it
 * (`[logstore] store = "admin"`): batches go over AMQP to the admin role's
 * adminLogsBroker as `call.mst log_rows` on the admin exchange (records
 * as their values in column order), and reads
 * are `read.mst` and `call.mst chain` requests answered there. The admin
 * node writes with its own log store, which must be on MariaDB (the batch
 * call and the paged tail are procedures).
 *
 * A batch is published with publisher confirms, persistent; once RabbitMQ
 * has it, the admin node's retry tiers and dead-letter queue keep it, so a
 * log record is never lost between nodes — only the buffer's own drops (full
 * buffer, failed confirms after every retry) are, and they are counted.
 *
 * @module
 */
import type { RequestBody } from "../client/mod.ts";
import { BedsError, type ErrorCode } from "../errors.ts";
import type { Reply } from "../protocol/mod.ts";
import { batchTuple, type StoredEvent } from "./rows.ts";
import { storedRecords } from "./fold.ts";
import { filterValues, type LogStore, matchesTail } from "./store.ts";
import { LOGSTORE_TEMPLATE } from "./template.ts";

/** The part of a client the AMQP log store needs (a reconnecting client on the admin exchange). */
export interface AdminRequester {
  request(body: RequestBody, options?: { timeoutMs?: number }): Promise<Reply>;
  send(body: RequestBody): Promise<void>;
}

/** Options for {@link createAmqpLogStore}. */
export interface AmqpLogStoreOptions {
  client: AdminRequester;
  /** Largest request body the admin node accepts (`[limits] max_body_bytes`); batches are split below it. */
  maxBodyBytes: number;
  /** How long a read waits for the admin node. @default 10000 */
  timeoutMs?: number;
}

/** Room for the envelope around the events. */
const ENVELOPE_BYTES = 256;

/**
 * Splits rows into batches whose JSON (with room for the request around it)
 * stays under `maxBytes`. A row larger
 * than that on its own goes alone (the admin node answers it TOO_LARGE and
 * dead-letters it, where it can still be read).
 */
export function splitBySize<T>(rows: readonly T[], maxBytes: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let size = 2;
  const encoder = new TextEncoder();
  for (const row of rows) {
    const bytes = encoder.encode(JSON.stringify(row)).length + 1;
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

function rowsOf(reply: Reply, keepPart?: (part: StoredEvent) => boolean): StoredEvent[] {
  if (!reply.ok) {
    throw new BedsError(reply.error.code as ErrorCode, `Admin log store: ${reply.error.message}`);
  }
  return storedRecords(reply.data, keepPart);
}

/** Creates a log store that lives behind the admin role's adminLogsBroker. */
export function createAmqpLogStore(options: AmqpLogStoreOptions): LogStore {
  const { client } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async write(rows) {
      for (const records of splitBySize(rows.map(batchTuple), options.maxBodyBytes)) {
        await client.send({ template: LOGSTORE_TEMPLATE, op: "call", call: "log_rows", data: { records } });
      }
    },
    async tail(filter) {
      // A read's limit may not pass the admin node's [limits] max_read_limit (1000 by default).
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
      const where: Record<string, unknown> = {
        ...filterValues(filter),
        before: filter.before,
        after: filter.after,
        max_rows: limit,
      };
      for (const [k, v] of Object.entries(where)) if (v === undefined) delete where[k];
      return rowsOf(
        await client.request({ template: LOGSTORE_TEMPLATE, op: "read", where, limit }, { timeoutMs }),
        (part) => matchesTail(part, filter),
      );
    },
    async chain(event) {
      return rowsOf(
        await client.request(
          { template: LOGSTORE_TEMPLATE, op: "call", call: "chain", data: { event } },
          { timeoutMs },
        ),
      );
    },
  };
}
