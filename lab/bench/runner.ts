/**
 * Runs scenarios: for each, the raw ceilings and BEDS, one after the other,
 * with the same load generator, the same requests and the same message
 * sizes, and turns the phases into one result with BEDS's ratios to the raw
 * ceiling. A scenario fails (throws) when a node process exits under it or a
 * phase completes no request at all: the best-round summary would otherwise
 * report the rounds before as if nothing had happened.
 *
 * @module
 */
import { BedsClient } from "../../src/client/mod.ts";
import type { BenchEnv } from "./env.ts";
import type { LoadProgress } from "./load.ts";
import { createFleet } from "./fleet.ts";
import { outcomeOf, type PhaseResult, runPhase } from "./phase.ts";
import { countedSummary, type Runs, type ScenarioResult, summarise, type System } from "./results.ts";
import { probe } from "./probe.ts";
import { runCounted } from "./counted.ts";
import { openRawDb, type RawDb, type RawDbMode } from "./raw_db.ts";
import { rawQueuesLike, startRawService } from "./raw_process.ts";
import { requestMaker, runSetup, type Scenario } from "./scenario.ts";
import { connectLabSchema } from "../db.ts";

/** Options for {@link createRunner}. */
export interface RunnerOptions {
  env: BenchEnv;
  warmupMs: number;
  durationMs: number;
  /** Write V8 CPU profiles of the node and raw services under this directory (`node/`, `echo/`, `echo_db/`). */
  profileDir?: string;
  /** Rounds per scenario; each round measures every system once. @default 1 */
  rounds?: number;
  /** Pool size of the direct-DB pool mode. @default 8 */
  poolSize?: number;
  /** Connections of the direct-DB pipelined mode. @default the node's, `env.dbConnections` */
  pipelined?: number;
  /** Receives a status line per phase; `final` false for a progress update. */
  progress: (line: string, final: boolean) => void;
  /** Measure the BEDS variants scenarios ask for (`metrics_off`). @default true */
  variants?: boolean;
  /** Measure the raw ceilings (a) and (b) in every round, not only the first ({@link systemsOfRound}). @default true */
  ceilingsEveryRound?: boolean;
  /** How long in-flight requests may settle after each window. @default load.ts's DRAIN_MS */
  drainMs?: number;
}

/** Runs scenarios against one bench environment. */
export interface Runner {
  run(scenario: Scenario): Promise<ScenarioResult>;
  /** PIDs of the BEDS nodes running now. */
  nodePids(): number[];
  close(): Promise<void>;
}

/** Why a phase cannot count as a measurement: it completed no request successfully. */
export function phaseFailure(label: string, result: PhaseResult): string | undefined {
  if (result.ok > 0) return undefined;
  const codes = Object.entries(result.error_codes).map(([code, n]) => `${code} ${n}`).join(", ");
  return `${label} completed no request in its window (${result.errors} errors${codes ? `: ${codes}` : ""})`;
}

/**
 * The systems a round measures, in order. The first measures all, and its two direct-DB modes
 * pick (c)'s (`dbMode`); later rounds only that mode, and with `ceilingsEveryRound` false (the
 * gate) only (c) and BEDS, the pair whose ratios it judges, so its time goes to more rounds.
 */
export function systemsOfRound(round: number, dbMode: RawDbMode, ceilingsEveryRound: boolean): System[] {
  if (round === 1) return ["echo", "db_pool", "db_pipelined", "echo_db", "beds"];
  const db = dbMode === "pool" ? "db_pool" : "db_pipelined";
  return ceilingsEveryRound ? ["echo", db, "echo_db", "beds"] : ["echo_db", "beds"];
}

/** Starts one BEDS node and the clients; nodes are added or removed per scenario. */
export async function createRunner(options: RunnerOptions): Promise<Runner> {
  const { env } = options;
  const rounds = options.rounds ?? 1;
  const profileFlags = (what: string) =>
    options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}/${what}`] : [];
  const fleet = createFleet(env, profileFlags);
  const active: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    while (active.length) await active.pop()!().catch(() => {});
  };
  await fleet.ensure(1);
  const beds = await BedsClient.connect({ amqp: env.config.amqp, name: "bench-beds" });
  // Each raw service gets its own exchange: sharing one, every request would reach both.
  const rawClient = async (tag: string) => {
    const exchange = `${env.config.amqp.exchange}.raw.${tag}`;
    env.rawExchanges.add(exchange);
    const client = await BedsClient.connect({
      amqp: { ...env.config.amqp, exchange },
      name: `bench-raw-${tag}`,
    });
    return { exchange, client };
  };
  const echoClient = await rawClient("echo");
  const naiveClient = await rawClient("echodb");
  const admin = await connectLabSchema({ schema: env.schema });

  const phase = async (
    scenario: Scenario,
    label: string,
    send: (i: number) => Promise<{ ok: boolean }>,
    pids: number[],
  ) => {
    const show = (p: LoadProgress) => {
      const rate = p.measuring && p.elapsedMs > 0 ? Math.round(p.completed / (p.elapsedMs / 1000)) : 0;
      const state = p.measuring ? `${(p.elapsedMs / 1000).toFixed(0)}s ${rate}/s` : "warm-up";
      options.progress(`  ${scenario.name} · ${label.padEnd(12)} ${state} errors ${p.errors}`, false);
    };
    const result = await runPhase({
      spec: scenario.load,
      send,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      drainMs: options.drainMs,
      pids,
      onProgress: show,
    });
    options.progress(
      `  ${scenario.name} · ${label.padEnd(12)} ${
        result.tps.toFixed(0).padStart(7)
      }/s  p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms  cpu ${result.cpu_us_per_tx} µs/tx (client ${result.client_cpu_us_per_tx}, rabbitmq ${result.rabbitmq_cpu_us_per_tx}, mariadb ${result.mariadb_cpu_us_per_tx})  errors ${result.errors}`,
      true,
    );
    await fleet.check(`during ${scenario.name} · ${label}`);
    const failure = phaseFailure(`${scenario.name} · ${label}`, result);
    if (failure) throw new Error(failure);
    return result;
  };

  /** A counted run: one fresh node, BEDS alone, RSS every `rss_every` requests. */
  const runCountedScenario = async (
    scenario: Scenario,
    base: Pick<ScenarioResult, "name" | "description" | "load" | "nodes">,
  ): Promise<ScenarioResult> => {
    const count = scenario.count!;
    if (scenario.load.mode !== "closed") throw new Error("a counted scenario needs a closed loop");
    await fleet.ensure(0);
    await fleet.ensure(1);
    await runSetup(scenario, admin);
    const probed = await probe(scenario, beds);
    if (typeof probed === "string") return { ...base, skipped: probed };
    const next = requestMaker(scenario);
    const node = fleet.nodes()[0]!;
    const started = performance.now();
    const counted = await runCounted({
      concurrency: scenario.load.concurrency,
      total: count.total,
      every: count.rss_every,
      send: () => beds.request(next().body).then(outcomeOf),
      pid: node.pid,
      onSample: (sample, done) => {
        const rate = Math.round(done / ((performance.now() - started) / 1000));
        options.progress(
          `  ${scenario.name} · ${sample.requests} requests  RSS ${
            (sample.rss_kib / 1024).toFixed(1)
          } MiB  ${rate}/s`,
          true,
        );
      },
    });
    await fleet.check(`during ${scenario.name}`);
    return countedSummary(base, counted);
  };

  const run = async (scenario: Scenario): Promise<ScenarioResult> => {
    const base = {
      name: scenario.name,
      description: scenario.description,
      load: scenario.load,
      nodes: scenario.nodes,
    };
    // A node that died after the last check (e.g. at the very end of the previous scenario).
    await fleet.check(`before ${scenario.name}`);
    if (scenario.count) return await runCountedScenario(scenario, base);
    await fleet.ensure(scenario.nodes);
    await runSetup(scenario, admin);
    // Probe every request kind once: a template that is not loaded skips the scenario.
    const probed = await probe(scenario, beds);
    if (typeof probed === "string") return { ...base, skipped: probed };
    const replyBytes = probed;
    const withoutMetrics = scenario.metrics_off && scenario.nodes === 1 && options.variants !== false
      ? await fleet.withoutMetrics()
      : undefined;
    if (withoutMetrics) {
      const failed = await probe(scenario, withoutMetrics.client);
      if (typeof failed === "string") throw new Error(`the node without metrics: ${failed}`);
    }
    const next = requestMaker(scenario);
    const statements = Object.fromEntries(
      scenario.requests.map((r) => [`${r.body.op}.${r.body.template}`, r.raw]),
    );
    const dbSizes = { pool: options.poolSize ?? 8, pipelined: options.pipelined ?? env.dbConnections };
    const runs: Runs = {
      echo: [],
      db_pool: [],
      db_pipelined: [],
      echo_db: [],
      beds: [],
      ...(withoutMetrics ? { beds_no_metrics: [] } : {}),
    };
    // Also reachable from close(), so an interrupted run stops its raw services too.
    const stops = active;
    try {
      // (a) echo, same queues and reply sizes
      const echo = await startRawService(env, {
        mode: "echo",
        amqpUrl: env.amqpUrl,
        exchange: echoClient.exchange,
        queues: rawQueuesLike(env, "echo"),
        replyBytes,
      }, profileFlags("echo"));
      stops.push(echo.stop);
      // (b) the same statements straight to the database, both ways
      const dbs = {} as Record<RawDbMode, RawDb>;
      for (const mode of ["pool", "pipelined"] as const) {
        dbs[mode] = await openRawDb({ mode, connections: dbSizes[mode], database: env.schema });
        stops.push(dbs[mode].close);
      }
      let naivePid = 0;
      let dbMode: RawDbMode = "pipelined";
      const viaEcho = () => echoClient.client.request(next().body).then(outcomeOf);
      const viaNaive = () => naiveClient.client.request(next().body).then(outcomeOf);
      const viaBeds = () => beds.request(next().body).then(outcomeOf);
      const direct = (mode: RawDbMode) => () => dbs[mode].run(next().raw()).then(() => ({ ok: true }));
      // Rounds interleave the systems, so a noisy moment on the machine hits them alike; each ratio is
      // the median of the rounds' (results.ts).
      for (let round = 1; round <= rounds; round++) {
        const tag = rounds > 1 ? ` ${round}/${rounds}` : "";
        const systems = systemsOfRound(round, dbMode, options.ceilingsEveryRound ?? true);
        if (systems.includes("echo")) {
          runs.echo.push(await phase(scenario, `raw echo${tag}`, viaEcho, [echo.pid]));
        }
        if (systems.includes("db_pool")) {
          runs.db_pool.push(await phase(scenario, `raw db pool${tag}`, direct("pool"), []));
        }
        if (systems.includes("db_pipelined")) {
          runs.db_pipelined.push(await phase(scenario, `raw db pipe${tag}`, direct("pipelined"), []));
        }
        if (round === 1) {
          // (c) the naive raw service, with the faster of the two database modes
          dbMode = runs.db_pipelined[0]!.tps >= runs.db_pool[0]!.tps ? "pipelined" : "pool";
          const naive = await startRawService(env, {
            mode: "echo_db",
            amqpUrl: env.amqpUrl,
            exchange: naiveClient.exchange,
            queues: rawQueuesLike(env, "echodb"),
            statements,
            db: { mode: dbMode, connections: dbSizes[dbMode], database: env.schema },
          }, profileFlags("echo_db"));
          stops.push(naive.stop);
          naivePid = naive.pid;
        }
        runs.echo_db.push(await phase(scenario, `raw echo+db${tag}`, viaNaive, [naivePid]));
        const bedsPhase = async () =>
          runs.beds.push(await phase(scenario, `BEDS${tag}`, viaBeds, fleet.nodes().map((n) => n.pid)));
        if (!withoutMetrics) await bedsPhase();
        else {
          const { client, node } = withoutMetrics;
          const viaOff = () => client.request(next().body).then(outcomeOf);
          const offPhase = async () =>
            runs.beds_no_metrics!.push(await phase(scenario, `BEDS no metrics${tag}`, viaOff, [node.pid]));
          // Alternate which goes first, so a trend on the machine favours neither.
          for (const step of round % 2 ? [bedsPhase, offPhase] : [offPhase, bedsPhase]) await step();
        }
      }
      return summarise(base, replyBytes, dbMode, runs, scenario.load.mode === "open");
    } finally {
      await stopAll();
    }
  };
  return {
    run,
    nodePids: () => fleet.nodes().map((n) => n.pid),
    async close() {
      await stopAll();
      await beds.close();
      await echoClient.client.close();
      await naiveClient.client.close();
      await admin.end().catch(() => {});
      await fleet.close();
    },
  };
}
