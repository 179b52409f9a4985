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
import { splitBySize } from "./split.ts";
import { chainReadOf } from "./chain_cut.ts";

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
  /**
   * Most rows the admin node answers a read (its `[limits] max_read_limit`): a longer tail is read
   * in pages of that many. @default 1000
   */
  maxReadLimit?: number;
}

/** Most stored records one tail reads, as the MariaDB store's `sp_mst_tail`. */
const MAX_TAIL = 10_000;

/** The rows of a reply, as the admin node's store answered them; a failure as the error it is. */
function dataOf(reply: Reply): unknown[] {
  if (!reply.ok) {
    throw new BedsError(reply.error.code as ErrorCode, `Admin log store: ${reply.error.message}`);
  }
  return Array.isArray(reply.data) ? reply.data : [];
}

function rowsOf(
  reply: Reply,
  keepPart?: (part: StoredEvent, parent: StoredEvent) => boolean,
): StoredEvent[] {
  return storedRecords(dataOf(reply), keepPart);
}

/** Creates a log store that lives behind the admin role's adminLogsBroker. */
export function createAmqpLogStore(options: AmqpLogStoreOptions): LogStore {
  const { client } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxReadLimit = Math.max(1, options.maxReadLimit ?? 1000);
  return {
    async write(rows) {
      for (const records of splitBySize(rows.map(batchTuple), options.maxBodyBytes)) {
        await client.send({ template: LOGSTORE_TEMPLATE, op: "call", call: "log_rows", data: { records } });
      }
    },
    async tail(filter) {
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), MAX_TAIL);
      const records: StoredEvent[] = [];
      let stored = 0;
      let before = filter.before;
      // A read's limit may not pass the admin node's [limits] max_read_limit: a longer tail is read
      // a page at a time, each older than the one before, as one read of a store of its own gives it.
      while (stored < limit) {
        const page = Math.min(limit - stored, maxReadLimit);
        const where: Record<string, unknown> = {
          ...filterValues(filter),
          before,
          after: filter.after,
          max_rows: page,
        };
        for (const [k, v] of Object.entries(where)) if (v === undefined) delete where[k];
        const got = rowsOf(
          await client.request({ template: LOGSTORE_TEMPLATE, op: "read", where, limit: page }, {
            timeoutMs,
          }),
          (part, parent) => matchesTail(part, parent, filter),
        );
        records.push(...got);
        // Folded parts share their record's id: the page counts stored records.
        let oldest: number | undefined;
        let count = 0;
        for (const record of got) {
          if (record.id === undefined) return records;
          if (record.id !== oldest) count++;
          oldest = record.id;
        }
        stored += count;
        if (count < page || oldest === undefined) break;
        before = oldest;
      }
      return records;
    },
    async chain(event) {
      const data = dataOf(
        await client.request(
          { template: LOGSTORE_TEMPLATE, op: "call", call: "chain", data: { event } },
          { timeoutMs },
        ),
      );
      // The admin node's sp_mst_chain answers one record more than a read holds, and the event's
      // lineage past them.
      return chainReadOf(data, event);
    },
  };
}
