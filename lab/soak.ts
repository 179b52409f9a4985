/**
 * Soak test: load against a node for a given time while faults are injected
 * on a schedule, then an account of every request: sent, answered, dead-
 * lettered, lost, and the node's resident memory at start and end. Not part
 * of `deno task test`; see lab/README.md.
 *
 * Usage: deno task soak [--seconds 60] [--concurrency 16 | --rate 500] …
 *
 * @module
 */
import { parseArgs } from "node:util";
import { account } from "./soak/account.ts";
import { adminDb, createOwnEnv, externalEnv, ROLE, type SoakEnv } from "./soak/env.ts";
import {
  type FaultSchedule,
  killAmqpConnection,
  killDbSessions,
  restartBroker,
  runFaults,
  startBroker,
} from "./soak/faults.ts";
import { runLoad } from "./soak/load.ts";
import { rssKiB, type SoakNode, startSoakNode } from "./soak/node.ts";
import { amqpOutages, describeOutage } from "./soak/outages.ts";

const USAGE = `deno task soak [options]

Load and faults:
  --seconds N              how long to run the load (default 60)
  --concurrency N          closed loop: N requests always in flight (default 16);
                           with --rate: the most in flight
  --rate N                 open loop: N requests per second
  --write-share F          share of writes, 0-1 (default 0.3)
  --timeout-ms N           reply timeout and deadline of each request (default 30000)
  --amqp-kill-every S      close the node's AMQP connection every S seconds (0 = never; default 15)
  --db-kill-every S        kill the node's MariaDB sessions every S seconds (0 = never; default 20)
  --broker-restart         also restart RabbitMQ (rabbitmqctl stop_app / start_app): disturbs
                           every user of the broker, use only when nobody else needs it
  --broker-restart-every S (default: once, half-way through)
  --broker-down-ms N       how long RabbitMQ stays stopped (default 5000)
  --drain-ms N             how long to wait for queues to drain after the load (default 60000)

Node (default: a node of its own, with its own exchange, schema and MariaDB account):
  --external               use an already running node instead
  --config DIR --env ENV   its config (required with --external)
  --instance NAME          its instance name (for AMQP connection kills)
  --pid PID                its process id (for RSS)
  --db-user USER           its MariaDB account (for session kills)`;

function num(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`Option --${name} must be a number ≥ 0, got "${value}"`);
  return n;
}

const mib = (kib: number | undefined) => kib === undefined ? "n/a" : `${(kib / 1024).toFixed(1)} MiB`;
const stamp = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => console.log(`[${stamp()}] ${line}`);
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(args: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      seconds: { type: "string" },
      concurrency: { type: "string" },
      rate: { type: "string" },
      "write-share": { type: "string" },
      "timeout-ms": { type: "string" },
      "amqp-kill-every": { type: "string" },
      "db-kill-every": { type: "string" },
      "broker-restart": { type: "boolean" },
      "broker-restart-every": { type: "string" },
      "broker-down-ms": { type: "string" },
      "drain-ms": { type: "string" },
      external: { type: "boolean" },
      config: { type: "string" },
      env: { type: "string" },
      instance: { type: "string" },
      pid: { type: "string" },
      "db-user": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const seconds = num(v.seconds, "seconds", 60)!;
  const amqpEvery = num(v["amqp-kill-every"], "amqp-kill-every", 15)!;
  const dbEvery = num(v["db-kill-every"], "db-kill-every", 20)!;
  if (v.external && (!v.config || !v.env)) throw new Error("--external needs --config DIR and --env ENV");
  const root = Deno.cwd(); // the repository root: deno task runs there
  const db = adminDb();
  const stopFaults = new AbortController();
  let brokerStopped = false;
  let env: SoakEnv | undefined;
  let envStarting: Promise<SoakEnv> | undefined;
  let node: SoakNode | undefined;
  let nodeStarting: Promise<SoakNode> | undefined;
  // Once, whichever asks first: the end of the run or a signal in the middle of it.
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    cleaning ??= (async () => {
      stopFaults.abort();
      if (brokerStopped) await startBroker();
      const running = node ?? await nodeStarting?.catch(() => undefined);
      if (running) log(`node stopped with exit code ${await running.stop()}`);
      const world = env ?? await envStarting?.catch(() => undefined);
      await world?.cleanup();
    })();
  // The node, its schema, MariaDB account, queues, exchanges and config dir outlive an interrupted
  // run: stop and remove them before exiting, and start RabbitMQ again if a fault had stopped it.
  let interruption: Promise<never> | undefined;
  const interrupted = () => {
    interruption ??= (async () => {
      log("soak: interrupted; stopping the node, cleaning up");
      await cleanUp().catch((e) => log(`soak: cleanup: ${(e as Error).message}`));
      Deno.exit(130);
    })();
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  try {
    envStarting = v.external
      ? Promise.resolve(externalEnv(root, { configDir: v.config!, env: v.env!, dbUser: v["db-user"] }))
      : createOwnEnv(root);
    env = await envStarting;
    return await soak(env);
  } finally {
    await cleanUp().finally(async () => {
      // An interrupted run ends in the handler, which exits once the cleanup is done.
      if (interruption) await interruption;
      Deno.removeSignalListener("SIGINT", interrupted);
      Deno.removeSignalListener("SIGTERM", interrupted);
    });
  }

  async function soak(env: SoakEnv): Promise<number> {
    await Deno.mkdir(`${root}/lab/results`, { recursive: true });
    const instance = v.external ? v.instance : `soak-${crypto.randomUUID().slice(0, 8)}`;
    const logFile = `${root}/lab/results/soak_${new Date().toISOString().replace(/[:.]/g, "-")}.node.log`;
    if (!v.external) node = await (nodeStarting = startSoakNode(env, instance!, logFile));
    const pid = node?.pid ?? num(v.pid, "pid");
    const rssStart = pid === undefined ? undefined : rssKiB(pid);
    log(
      `soak: ${seconds} s, ${
        v.rate
          ? `${v.rate}/s (at most ${v.concurrency ?? 16} in flight)`
          : `concurrency ${v.concurrency ?? 16}`
      } against ${instance ?? "an external node"}${pid ? ` (pid ${pid})` : ""}${
        node ? `; node log ${logFile}` : ""
      }`,
    );

    const schedules: FaultSchedule[] = [];
    const connectionName = instance && `beds ${ROLE} ${instance}`;
    if (amqpEvery > 0 && connectionName) {
      schedules.push({
        name: "amqp-connection-kill",
        firstMs: amqpEvery * 500,
        everyMs: amqpEvery * 1000,
        inject: async () =>
          `closed ${await killAmqpConnection(connectionName)} connection(s) "${connectionName}"`,
      });
    }
    if (dbEvery > 0 && env.dbUser) {
      const user = env.dbUser;
      schedules.push({
        name: "mariadb-session-kill",
        firstMs: dbEvery * 700,
        everyMs: dbEvery * 1000,
        inject: async () => `killed ${await killDbSessions(db, user)} session(s) of ${user}`,
      });
    }
    if (v["broker-restart"]) {
      const downMs = num(v["broker-down-ms"], "broker-down-ms", 5000)!;
      const every = num(v["broker-restart-every"], "broker-restart-every");
      schedules.push({
        name: "broker-restart",
        firstMs: (every ?? seconds / 2) * 1000,
        everyMs: (every ?? seconds * 10) * 1000,
        inject: async () => {
          brokerStopped = true;
          try {
            await restartBroker(downMs);
          } finally {
            brokerStopped = false;
          }
          return `RabbitMQ stopped for ${downMs} ms and started again`;
        },
      });
    }
    let rssWarm: number | undefined;
    let rssPeak: number | undefined;
    const faults = runFaults(schedules, stopFaults.signal, log);
    const rate = num(v.rate, "rate");
    const tally = await runLoad({
      amqp: env.config.amqp,
      seconds,
      rate,
      concurrency: num(v.concurrency, "concurrency", 16)!,
      writeShare: num(v["write-share"], "write-share", 0.3)!,
      timeoutMs: num(v["timeout-ms"], "timeout-ms", 30_000)!,
      skuBase: Math.floor(Math.random() * 17_000),
      log,
      status: pid === undefined ? undefined : () => {
        const now = rssKiB(pid);
        rssWarm ??= now; // the first sample, 5 s in: the node has met its working set
        if (now !== undefined) rssPeak = Math.max(rssPeak ?? 0, now);
        return `node RSS ${mib(now)}`;
      },
    }).finally(() => stopFaults.abort());
    const tallyFaults = await faults;
    log("load done; waiting for the queues to drain");
    const result = await account(env, db, tally, num(v["drain-ms"], "drain-ms", 60_000)!);
    const rssEnd = pid === undefined ? undefined : rssKiB(pid);

    const w = result.writes;
    const lost = w.lost.length + w.lostAfterOk.length;
    const answered = sum(tally.replies);
    console.log(`
faults         ${
      [...tallyFaults].map(([k, t]) => `${k} ${t.done}${t.failed ? ` (${t.failed} failed)` : ""}`).join(
        ", ",
      ) || "none"
    }
sent           ${tally.sent} (reads ${tally.reads}, writes ${tally.writes})${
      rate ? `, shed ${tally.shed}` : ""
    }
answered       ${answered}: ${JSON.stringify(Object.fromEntries(tally.replies))}
no reply       ${sum(tally.noReply)}: ${JSON.stringify(Object.fromEntries(tally.noReply))}
dead-lettered  ${result.deadLetters} in the DLQs (${w.deadLettered} of this run's writes)
writes         applied ${w.applied}, dead-lettered ${w.deadLettered}, refused ${w.refused}, lost ${lost}
left in queues ${result.leftInQueues}
node RSS       start ${mib(rssStart)}, end ${mib(rssEnd)}${
      rssStart !== undefined && rssEnd !== undefined
        ? ` (${rssEnd >= rssStart ? "+" : ""}${mib(rssEnd - rssStart)})`
        : ""
    }; after 5 s ${mib(rssWarm)}, peak ${mib(rssPeak)}`);
    // The node's own account of each AMQP outage: when it was away and when it was back.
    const logText = node ? await Deno.readTextFile(logFile) : "";
    const outages = amqpOutages(logText);
    const stranded = outages.filter((o) => !o.to).length;
    if (node) {
      console.log(`node amqp      ${outages.length} outage(s), ${outages.length - stranded} recovered`);
      for (const o of outages) console.log(`               ${describeOutage(o)}`);
    }
    if (stranded) console.log(`NOT RECOVERED: the node has no AMQP connection at the end of the run`);
    if (lost) {
      console.log(
        `LOST: ${[...w.lostAfterOk.map((s) => `${s} (answered ok)`), ...w.lost].slice(0, 20).join(", ")}`,
      );
    }
    return lost || stranded ? 1 : 0;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
