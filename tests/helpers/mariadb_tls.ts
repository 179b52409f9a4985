/**
 * A private, throw-away MariaDB server with TLS on, for tests: its own data
 * directory and free port on 127.0.0.1, root without a password, and a user
 * that may only log in over TLS. The shared lab server is left alone.
 *
 * @module
 */
import { createTestCertificates, type TestCertificates } from "./tls_endpoint.ts";
import { startPrivateMariadb } from "./private_mariadb.ts";

/** A running TLS MariaDB. */
export interface TlsMariadb {
  port: number;
  certs: TestCertificates;
  /** A user created `REQUIRE SSL`: a plain-text login is refused. */
  tlsUser: { user: string; password: string };
  /** Stops the server and removes its data and certificates. */
  stop(): Promise<void>;
}

/** Starts a MariaDB server with the test CA's server certificate and grants `schema` to a TLS-only user. */
export async function startTlsMariadb(schema: string): Promise<TlsMariadb> {
  const certs = await createTestCertificates();
  const tlsUser = { user: "beds_tls", password: `tls-${crypto.randomUUID().slice(0, 8)}` };
  try {
    const server = await startPrivateMariadb(
      [`--ssl-cert=${certs.certFile}`, `--ssl-key=${certs.keyFile}`, `--ssl-ca=${certs.caFile}`],
      async (conn) => {
        await conn.query(`CREATE DATABASE \`${schema}\``);
        await conn.query(`CREATE USER '${tlsUser.user}'@'%' IDENTIFIED BY '${tlsUser.password}' REQUIRE SSL`);
        await conn.query(`GRANT SELECT, EXECUTE ON \`${schema}\`.* TO '${tlsUser.user}'@'%'`);
      },
    );
    const stop = async () => {
      await server.stop();
      await certs.remove();
    };
    return { port: server.port, certs, tlsUser, stop };
  } catch (error) {
    await certs.remove();
    throw error;
  }
}
