/**
 * Fault injection for recovery tests. Each fault touches only what the test
 * created: one named AMQP connection, one MariaDB account's sessions.
 *
 * @module
 */
import mariadb, { type Connection } from "mariadb";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Closes (server side) every AMQP connection whose name contains `namePart`; returns how many. */
export async function closeAmqpConnections(namePart: string): Promise<number> {
  // The table form prints each pid in the syntax close_connection accepts.
  const lines =
    (await run("rabbitmqctl", ["list_connections", "pid", "client_properties", "-q", "--no-table-headers"]))
      .split("\n");
  let closed = 0;
  for (const line of lines) {
    const name = /\{"connection_name","([^"]*)"\}/.exec(line)?.[1];
    if (!name?.includes(namePart)) continue;
    await run("rabbitmqctl", ["close_connection", line.split("\t")[0]!, "fault injected by test"]);
    closed++;
  }
  return closed;
}

/** A MariaDB account for one test, allowed to use one schema. */
export interface DbUser {
  user: string;
  password: string;
  /** Kills every session of the account; returns how many. */
  killSessions(): Promise<number>;
  /** Locks (true) or unlocks the account: new logins fail while locked. */
  lock(locked: boolean): Promise<void>;
  drop(): Promise<void>;
}

function root() {
  return mariadb.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "" });
}

/**
 * Session ids of `user`. While a session runs a SQL SECURITY DEFINER routine
 * the process list shows the definer as its user, so a busy session is seen
 * only between statements: sample a few times and take every id seen.
 */
async function sessionsOf(c: Connection, user: string): Promise<Set<number>> {
  const ids = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const rows = await c.query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
      user,
    ]) as Array<
      { ID: number | bigint }
    >;
    for (const row of rows) ids.add(Number(row.ID));
    await new Promise((r) => setTimeout(r, 10));
  }
  return ids;
}

/** Creates an account with EXECUTE and SELECT on `schema`. */
export async function createDbUser(schema: string, id: string): Promise<DbUser> {
  const user = `bt_${id}`.slice(0, 32);
  const password = `pw_${id}`;
  const conn = await root();
  try {
    await conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await conn.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'`);
    for (const host of ["%", "localhost"]) {
      await conn.query(`GRANT SELECT, EXECUTE ON \`${schema}\`.* TO '${user}'@'${host}'`);
    }
  } finally {
    await conn.end();
  }
  return {
    user,
    password,
    async killSessions() {
      const c = await root();
      try {
        const ids = await sessionsOf(c, user);
        for (const id of ids) await c.query(`KILL CONNECTION ${id}`).catch(() => {});
        return ids.size;
      } finally {
        await c.end();
      }
    },
    async lock(locked) {
      const c = await root();
      try {
        for (const host of ["%", "localhost"]) {
          await c.query(`ALTER USER '${user}'@'${host}' ACCOUNT ${locked ? "LOCK" : "UNLOCK"}`);
        }
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await root();
      try {
        for (const host of ["%", "localhost"]) await c.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Result of one request of a load run. */
export interface LoadResult<T> {
  index: number;
  reply?: T;
  error?: Error;
}

/** Runs `count` requests with at most `concurrency` in flight; `progress` sees each completion. */
export async function runLoad<T>(
  count: number,
  concurrency: number,
  send: (index: number) => Promise<T>,
  progress?: (done: number) => void,
): Promise<LoadResult<T>[]> {
  const results: LoadResult<T>[] = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      try {
        results[index] = { index, reply: await send(index) };
      } catch (error) {
        results[index] = { index, error: error as Error };
      }
      progress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
