/**
 * Faults the soak injects, each aimed as narrowly as the shared machine
 * needs: one AMQP connection (by its client-given name), one MariaDB
 * account's sessions, and (only when asked) a RabbitMQ application restart.
 *
 * @module
 */
import mariadb from "mariadb";
import type { AdminDb } from "./env.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    // rabbitmqctl follows its error with usage text: the first line says it all.
    const reason = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`${cmd} ${args[0]} failed: ${reason}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Closes (server side) the AMQP connections named exactly `name`; returns how many. */
export async function killAmqpConnection(name: string): Promise<number> {
  // The table form prints each pid in the syntax close_connection accepts.
  const lines =
    (await run("rabbitmqctl", ["list_connections", "pid", "client_properties", "-q", "--no-table-headers"]))
      .split("\n");
  let closed = 0;
  for (const line of lines) {
    if (/\{"connection_name","([^"]*)"\}/.exec(line)?.[1] !== name) continue;
    await run("rabbitmqctl", ["close_connection", line.split("\t")[0]!, "fault injected by lab/soak.ts"]);
    closed++;
  }
  return closed;
}

/** Kills every session of MariaDB account `user`; returns how many. */
export async function killDbSessions(db: AdminDb, user: string): Promise<number> {
  const conn = await mariadb.createConnection(db);
  try {
    // A session running a SQL SECURITY DEFINER routine shows the definer as its user:
    // sample a few times to catch the busy ones between statements.
    const ids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const rows = await conn.query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
        user,
      ]) as Array<
        { ID: number | bigint }
      >;
      for (const row of rows) ids.add(Number(row.ID));
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const id of ids) await conn.query(`KILL CONNECTION ${id}`).catch(() => {});
    return ids.size;
  } finally {
    await conn.end();
  }
}

/**
 * Stops the RabbitMQ application, waits `downMs`, and starts it again. This
 * disconnects every client of the broker, not only the soak's.
 */
export async function restartBroker(downMs: number): Promise<void> {
  await run("rabbitmqctl", ["stop_app"]);
  try {
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await startBroker();
  }
}

/** Starts the RabbitMQ application (nothing happens if it runs already). */
export async function startBroker(): Promise<void> {
  await run("rabbitmqctl", ["start_app"]);
}

/** One kind of fault on a schedule. */
export interface FaultSchedule {
  name: string;
  /** First run after this long. */
  firstMs: number;
  /** Then every this long. */
  everyMs: number;
  /** Injects the fault once; returns a short note for the log. */
  inject(): Promise<string>;
}

/** Tally of injected faults by name. */
export type FaultTally = Map<string, { done: number; failed: number }>;

/**
 * Runs each schedule until `signal` aborts. A fault of one kind never
 * overlaps another of the same kind; `log` receives a line per injection.
 */
export async function runFaults(
  schedules: readonly FaultSchedule[],
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<FaultTally> {
  const tally: FaultTally = new Map(schedules.map((s) => [s.name, { done: 0, failed: 0 }]));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  await Promise.all(schedules.map(async (s) => {
    await sleep(s.firstMs);
    while (!signal.aborted) {
      const count = tally.get(s.name)!;
      try {
        log(`fault ${s.name}: ${await s.inject()}`);
        count.done++;
      } catch (error) {
        log(`fault ${s.name} failed: ${(error as Error).message}`);
        count.failed++;
      }
      await sleep(s.everyMs);
    }
  }));
  return tally;
}
