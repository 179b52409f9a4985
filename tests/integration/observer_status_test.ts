/**
 * The observer's Status filter on a MariaDB log store holding records as BEDS writes them: a failed
 * IPL record (level error, no code) is an error, a warning without a code (a `reconnecting` status,
 * an IPL with warnings) is not ok, and a fan-out's folded parts are ok with their parent.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import {
  batchTuple,
  createBatchWriter,
  createLogStoreSink,
  eventsIn,
  type LogEvent,
  type LogRow,
} from "../../src/logstore/mod.ts";
import { createMariadbSource } from "../../utilities/log_dumper/mariadb_source.ts";
import { unfolding } from "../../utilities/log_dumper/unfold.ts";
import { dropSchema, loadLabSchema } from "../../lab/db.ts";
import { uniqueId } from "../helpers/services.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";

const AT = "2025-03-30T01:01:04.000Z";
const ipl = (event: string, ok: boolean, outcome: string): LogEvent => ({
  kind: "ipl",
  event,
  at: AT,
  node: "node-a",
  role: "appServer",
  env: "prod",
  ok,
  ms: 12,
  steps: [{ step: "templates_verify", outcome, ms: 3 }],
  configDigest: "ab".repeat(32),
});
const status = (type: string): LogEvent => ({ kind: "status", at: AT, node: "node-a", status: { type } });

/** Every kind of record, and the events the Status filter lists for it (status records get ids s1, s2). */
const EVENTS: LogEvent[] = [
  requestEvent({ event: "req-ok-n-b-0000" }),
  requestEvent({ event: "req-fail-n-b-0000", code: "NOT_FOUND", message: "no row" }),
  requestEvent({ event: "req-retry-n-b-0000", code: "DB_UNAVAILABLE", message: "down", action: "retry" }),
  fanOutEvent("fan-n-b-0000", [{}, {}]),
  ipl("ipl-ok-n-b-0000", true, "ok"),
  ipl("ipl-warn-n-b-0000", true, "warn"),
  ipl("ipl-failed-n-b-0000", false, "failed"),
  status("connected"),
  status("reconnecting"),
];
const OK = ["req-ok-n-b-0000", "fan-n-b-0000", "fan-n-b-0000.1", "fan-n-b-0000.2", "ipl-ok-n-b-0000", "s1"];
const ERROR = ["req-fail-n-b-0000", "req-retry-n-b-0000", "ipl-failed-n-b-0000"];

Deno.test("the observer's Status filter on MariaDB: a failed IPL is an error, a warning is not ok", async () => {
  const schema = `beds_t_${uniqueId()}`;
  try {
    await loadLabSchema({ schema });
    const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: schema });
    try {
      // As a node writes them: through the sink, parts folded, in one log_rows call.
      const writer = createBatchWriter<LogRow>({
        write: async (rows) => {
          await conn.query("CALL sp_mst_log_rows(?)", [JSON.stringify(rows.map(batchTuple))]);
        },
        batchSize: 100,
        flushMs: 60_000,
        capacity: 1000,
        weight: eventsIn,
      });
      let ids = 0;
      const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => `s${++ids}`, foldParts: true });
      for (const event of EVENTS) sink.emit(event);
      await writer.close();
      const [{ n }] = await conn.query("SELECT COUNT(*) AS n FROM ms_logs WHERE event LIKE 'fan%'");
      assert.equal(Number(n), 1, "the fan-out's parts were folded");
    } finally {
      await conn.end();
    }
    const source = unfolding(createMariadbSource({
      host: "127.0.0.1",
      port: 3306,
      user: "root",
      password: "",
      database: schema,
    }, 10_000));
    try {
      const listed = async (status: string) =>
        (await source.recent({ status }, 50)).map((r) => r.event).sort();
      assert.deepEqual(await listed("ok"), [...OK].sort());
      assert.deepEqual(await listed("error"), [...ERROR].sort());
    } finally {
      await source.close();
    }
  } finally {
    await dropSchema({ schema });
  }
});
