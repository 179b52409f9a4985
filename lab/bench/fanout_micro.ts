/**
 * Where a fan-out's node CPU goes below AMQP, measured in one process on the
 * real MariaDB: the 24 statements of `dsh` made (1) directly with the
 * driver's pipelined connections (the raw ceiling's (b)), (2) through BEDS's
 * connection set (`src/adapters/mariadb/connections.ts`, coalesced writes)
 * and (3) through `dispatch()` with the MariaDB adapter (checks, SQL text,
 * concurrency slots, results). One fan-out at a time, interleaved rounds;
 * prints CPU and wall time per fan-out. With `--heap`, also samples what (1)
 * and (3) allocate per fan-out and where (V8's sampling heap profiler through
 * `node:inspector`): the collector's share of a fan-out comes from it.
 *
 * Needs the lab schema (`deno task lab:up`). Usage:
 * `deno run -A lab/bench/fanout_micro.ts [--schema beds_lab] [--count 2000] [--rounds 4] [--heap]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Session } from "node:inspector";
import { dispatch, type DispatchDeps } from "../../src/dispatch/mod.ts";
import { createMariadbAdapter } from "../../src/adapters/mod.ts";
import { createConnectionSet } from "../../src/adapters/mariadb/connections.ts";
import type { MariadbConfig, Op } from "../../src/config/mod.ts";
import type { Request } from "../../src/protocol/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { createRegistry, loadTemplates } from "../../src/templates/mod.ts";
import { openRawDb } from "./raw_db.ts";
import { loadScenarios, rawStatements } from "./scenario.ts";

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Starts V8's sampling heap profiler; the returned function stops it and lists the top allocators. */
async function sampleHeap(): Promise<() => Promise<{ bytes: number; top: string[] }>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await post<{ profile: { head: HeapNode } }>("HeapProfiler.stopSampling");
    session.disconnect();
    const totals = new Map<string, number>();
    const walk = (node: HeapNode) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url.replace(/^.*\/(src|lab|registry\.npmjs\.org)\//, "$1/");
      const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
      totals.set(key, (totals.get(key) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const all = [...totals.values()].reduce((a, b) => a + b, 0);
    const top = [...totals].sort((a, b) => b[1] - a[1]).map(([key, bytes]) =>
      `${(bytes / all * 100).toFixed(1).padStart(5)} %  ${key}`
    );
    return { bytes: all, top };
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      schema: { type: "string", default: "beds_lab" },
      count: { type: "string", default: "2000" },
      rounds: { type: "string", default: "4" },
      heap: { type: "boolean", default: false },
    },
  });
  const root = Deno.cwd();
  const schema = values.schema;
  const count = Number(values.count);
  const scenario = (await loadScenarios(`${root}/lab/bench/scenarios`)).find((s) =>
    s.name === "fanout_dsh_k1"
  );
  const spec = scenario!.requests[0]!;
  const raw = rawStatements(spec.raw, spec.body);
  const server = {
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    password: "",
    connections: 2,
    connect_timeout_ms: 5000,
    max_queue: 10_000,
    transaction_connections: 2,
  };
  const config = {
    master: server,
    schemas: { lab: schema, shop: schema, main: schema, logs: schema },
  } as unknown as MariadbConfig;
  const adapter = createMariadbAdapter({ config, logger: silentLogger() });
  await adapter.open();
  const set = createConnectionSet({ name: "bench", server: config.master, logger: silentLogger() });
  await set.open();
  const direct = await openRawDb({ mode: "pipelined", connections: 2, database: schema });
  // The connection set has no default database: the same statements, schema-qualified.
  const qualified = raw.map((s) => ({
    sql: s.sql.replace(/FROM (\w+)/, `FROM ${schema}.$1`).replace(/(fn_\w+)\(/, `${schema}.$1(`),
    values: [...s.values],
  }));
  const registry = createRegistry(await loadTemplates(`${root}/templates`));
  const deps: DispatchDeps = {
    registry: () => registry,
    adapters: new Map([["mariadb", adapter]]),
    limits: {
      max_body_bytes: 65536,
      max_reply_bytes: 16_777_216,
      default_read_limit: 100,
      max_read_limit: 1000,
    },
  };
  const ops: ReadonlySet<Op> = new Set<Op>(["read"]);
  const request = spec.body as Request;

  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const measure = async (name: string, run: () => Promise<unknown>) => {
    const c0 = cpuUs();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await run();
    const cpu = (cpuUs() - c0) / count;
    const wall = (performance.now() - t0) * 1000 / count;
    console.log(
      `  ${name.padEnd(34)} ${cpu.toFixed(0).padStart(5)} µs CPU  ${wall.toFixed(0).padStart(5)} µs wall`,
    );
  };
  let n = 0;
  try {
    for (let round = 1; round <= Number(values.rounds); round++) {
      console.log(`round ${round}: per dsh fan-out (24 statements), one at a time`);
      await measure("driver, pipelined connections", () => direct.run(raw));
      await measure(
        "BEDS connection set",
        () => Promise.all(qualified.map((s) => set.query(s.sql, s.values))),
      );
      await measure(
        "BEDS dispatch() + MariaDB adapter",
        () => dispatch(request, ops, deps, { event: `e${n++}` }),
      );
    }
    if (values.heap) {
      const sampled = async (name: string, run: () => Promise<unknown>) => {
        const stop = await sampleHeap();
        for (let i = 0; i < count; i++) await run();
        const { bytes, top } = await stop();
        console.log(
          `${name}: about ${(bytes / count / 1024).toFixed(0)} KiB allocated per fan-out; by function:`,
        );
        for (const line of top.slice(0, 12)) console.log(`  ${line}`);
      };
      await sampled("driver, pipelined connections", () => direct.run(raw));
      await sampled(
        "BEDS dispatch() + MariaDB adapter",
        () => dispatch(request, ops, deps, { event: `e${n++}` }),
      );
    }
  } finally {
    await direct.close();
    await set.close();
    await adapter.close();
  }
}
