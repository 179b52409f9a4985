/**
 * A private, throw-away MariaDB server for tests that need settings the shared
 * server must keep (TLS, `innodb_rollback_on_timeout`): its own data
 * directory and free port on 127.0.0.1, root without a password. The shared
 * server is left alone.
 *
 * @module
 */
import mariadb, { type Connection } from "mariadb";
import { terminate } from "../../lab/bench/proc.ts";

/** A running private server. */
export interface PrivateMariadb {
  port: number;
  /** A connection as root, to `database` if given; the caller ends it. */
  connect(database?: string): Promise<Connection>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts a server with `options` on its command line and runs `setup` as root once it answers
 * (retried until it does, for up to 20 s).
 */
export async function startPrivateMariadb(
  options: string[],
  setup: (conn: Connection) => Promise<void>,
): Promise<PrivateMariadb> {
  const dir = await Deno.makeTempDir({ prefix: "beds_mdb_" });
  let child: Deno.ChildProcess | undefined;
  const stop = async () => {
    if (child) await terminate(child, 10_000);
    child = undefined;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const install = await new Deno.Command("mariadb-install-db", {
      args: [
        "--no-defaults",
        `--datadir=${dir}/data`,
        "--user=root",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!install.success) {
      throw new Error(`mariadb-install-db: ${new TextDecoder().decode(install.stderr).trim().slice(-500)}`);
    }
    const port = freePort();
    child = new Deno.Command("/usr/sbin/mariadbd", {
      args: [
        "--no-defaults",
        `--datadir=${dir}/data`,
        "--user=root",
        "--bind-address=127.0.0.1",
        `--port=${port}`,
        `--socket=${dir}/mariadbd.sock`,
        `--pid-file=${dir}/mariadbd.pid`,
        ...options,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const connect = (database?: string) =>
      mariadb.createConnection({ host: "127.0.0.1", port, user: "root", password: "", database });
    for (const end = Date.now() + 20_000;;) {
      try {
        const conn = await connect();
        try {
          await setup(conn);
        } finally {
          await conn.end();
        }
        break;
      } catch (error) {
        if (Date.now() > end) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { port, connect, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
