/**
 * What recording a fan-out costs MariaDB, with its parts folded into the
 * parent's record (`[logstore] fold_parts`) and with a record per part:
 * the records come from the node's own sink (`createLogStoreSink`), the
 * batches are what the node sends (`batchTuple`, batches of 200 through
 * `sp_mst_log_rows`), and MariaDB's CPU is read from `/proc` around them.
 * The two forms alternate over the rounds in a throw-away schema.
 *
 * Usage: `deno run -A lab/bench/logstore_cost.ts [--fanouts 2000] [--rounds 4]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { batchTuple, createBatchWriter, createLogStoreSink, type LogRow } from "../../src/logstore/mod.ts";
import { connectLabSchema, dropSchema, loadLabSchema } from "../db.ts";
import { cpuMicros, oldestPidNamed } from "./proc.ts";

const BATCH = 200;
const PARTS = 24;

/** The records the node's sink makes of `fanouts` fan-outs of 24 parts. */
async function recordsOf(fanouts: number, foldParts: boolean, tag: string): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  const writer = createBatchWriter<LogRow>({
    write: (batch) => Promise.resolve(void rows.push(...batch)),
    batchSize: 1_000_000,
    flushMs: 60_000,
    capacity: 10_000_000,
  });
  const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts });
  const base = {
    kind: "request",
    node: "bench-node",
    broker: "rBroker",
    attempt: 1,
    action: "reply",
  } as const;
  for (let i = 0; i < fanouts; i++) {
    const at = new Date().toISOString();
    const root = `${tag}${i.toString(36).padStart(6, "0")}-bench-node-b-0000`;
    const parts = Array.from({ length: PARTS }, (_, i) => {
      const n = i + 1;
      const call = n > 21 ? "order_total" : undefined;
      return {
        event: `${root}.${n}`,
        template: n <= 12 ? "prd" : n <= 18 ? "cus" : n <= 21 ? "ord" : "cus",
        op: call ? "call" : "read",
        ...(call ? { call } : {}),
        ms: 4 + n / 10,
        rows: 1,
      };
    });
    sink.emit({
      ...base,
      event: root,
      at,
      template: "dsh",
      op: "read",
      ms: 9.5,
      rows: 24,
      user: "guest",
      parts,
    });
  }
  await writer.close();
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { fanouts: { type: "string", default: "2000" }, rounds: { type: "string", default: "4" } },
  });
  const fanouts = Number(values.fanouts);
  const rounds = Number(values.rounds);
  const server = oldestPidNamed("mariadbd");
  if (server === undefined) throw new Error("no mariadbd process on this host");
  const schema = `beds_lc_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await loadLabSchema({ schema });
  const conn = await connectLabSchema({ schema });
  try {
    const results: Record<string, number[]> = { folded: [], "a record per part": [] };
    for (let round = 0; round < rounds; round++) {
      for (const fold of [true, false]) {
        const rows = await recordsOf(fanouts, fold, `r${round}${fold ? "f" : "u"}`);
        const tuples = rows.map(batchTuple);
        const before = cpuMicros(server);
        const t0 = performance.now();
        for (let i = 0; i < tuples.length; i += BATCH) {
          await conn.query("CALL sp_mst_log_rows(?)", [JSON.stringify(tuples.slice(i, i + BATCH))]);
        }
        const wall = performance.now() - t0;
        const cpu = cpuMicros(server) - before;
        const label = fold ? "folded" : "a record per part";
        results[label]!.push(cpu / fanouts);
        console.log(
          `round ${round + 1} ${label.padEnd(18)} ${rows.length} records, ${
            Math.ceil(rows.length / BATCH)
          } batches: MariaDB ${(cpu / fanouts).toFixed(0)} µs per fan-out, ${
            (wall * 1000 / fanouts).toFixed(0)
          } µs wall`,
        );
      }
    }
    const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [label, xs] of Object.entries(results)) {
      console.log(`${label}: median ${median(xs).toFixed(0)} µs of MariaDB CPU per fan-out`);
    }
  } finally {
    await conn.end();
    await dropSchema({ schema });
  }
}
