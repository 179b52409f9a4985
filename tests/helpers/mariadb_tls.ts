/**
 * A private, throw-away MariaDB server with TLS on, for tests: its own data
 * directory and free port on 127.0.0.1, root without a password, and a user
 * that may only log in over TLS. The shared lab server is left alone.
 *
 * @module
 */
import mariadb from "mariadb";
import { createTestCertificates, type TestCertificates } from "./tls_endpoint.ts";
import { terminate } from "../../lab/bench/proc.ts";

/** A running TLS MariaDB. */
export interface TlsMariadb {
  port: number;
  certs: TestCertificates;
  /** A user created `REQUIRE SSL`: a plain-text login is refused. */
  tlsUser: { user: string; password: string };
  /** Stops the server and removes its data and certificates. */
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr).trim().slice(-500)}`);
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts a MariaDB server with the test CA's server certificate and grants `schema` to a TLS-only user. */
export async function startTlsMariadb(schema: string): Promise<TlsMariadb> {
  const certs = await createTestCertificates();
  const dir = await Deno.makeTempDir({ prefix: "beds_mdb_" });
  let child: Deno.ChildProcess | undefined;
  const stop = async () => {
    if (child) {
      await terminate(child, 10_000);
      child = undefined;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await certs.remove();
  };
  try {
    await run("mariadb-install-db", [
      "--no-defaults",
      `--datadir=${dir}/data`,
      "--user=root",
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ]);
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
        `--ssl-cert=${certs.certFile}`,
        `--ssl-key=${certs.keyFile}`,
        `--ssl-ca=${certs.caFile}`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const tlsUser = { user: "beds_tls", password: `tls-${crypto.randomUUID().slice(0, 8)}` };
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        const conn = await mariadb.createConnection({ host: "127.0.0.1", port, user: "root", password: "" });
        try {
          await conn.query(`CREATE DATABASE \`${schema}\``);
          await conn.query(
            `CREATE USER '${tlsUser.user}'@'%' IDENTIFIED BY '${tlsUser.password}' REQUIRE SSL`,
          );
          await conn.query(`GRANT SELECT, EXECUTE ON \`${schema}\`.* TO '${tlsUser.user}'@'%'`);
        } finally {
          await conn.end();
        }
        break;
      } catch (error) {
        if (Date.now() > end) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { port, certs, tlsUser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
