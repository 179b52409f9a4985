/**
 * A TLS endpoint whose server certificate expired in 2020, signed by a test CA, in front of a plain
 * TCP service (RabbitMQ's 5672): for what a node says of an expired certificate.
 *
 * @module
 */
import { createTestCertificates } from "./tls_endpoint.ts";

/** A running endpoint: its port and the CA that signed its (expired) certificate. */
export interface ExpiredTlsEndpoint {
  port: number;
  caFile: string;
  stop(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Signs a certificate for 127.0.0.1 valid only on 1 January 2020 (`openssl ca` takes explicit dates). */
async function expiredCertificate(dir: string): Promise<{ certFile: string; keyFile: string }> {
  await Deno.mkdir(`${dir}/expired_db`);
  await Deno.writeTextFile(`${dir}/expired_db/index.txt`, "");
  await Deno.writeTextFile(`${dir}/expired_db/serial`, "01\n");
  await Deno.writeTextFile(
    `${dir}/expired.cnf`,
    "[ca]\ndefault_ca = c\n[c]\ndatabase = expired_db/index.txt\nserial = expired_db/serial\n" +
      "new_certs_dir = expired_db\ndefault_md = sha256\npolicy = p\nunique_subject = no\n" +
      "[p]\ncommonName = supplied\n[ext]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "expired.key",
    "-out",
    "expired.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await openssl([
    "ca",
    "-batch",
    "-config",
    "expired.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca.key",
    "-in",
    "expired.csr",
    "-out",
    "expired.pem",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extensions",
    "ext",
    "-notext",
  ], dir);
  return { certFile: `${dir}/expired.pem`, keyFile: `${dir}/expired.key` };
}

/** Starts the endpoint on a free port of 127.0.0.1, forwarding to 127.0.0.1:`targetPort`. */
export async function startExpiredTlsEndpoint(targetPort = 5672): Promise<ExpiredTlsEndpoint> {
  const certs = await createTestCertificates();
  const dir = certs.caFile.slice(0, certs.caFile.lastIndexOf("/"));
  let listener: Deno.TlsListener;
  try {
    const { certFile, keyFile } = await expiredCertificate(dir);
    listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(certFile),
      key: await Deno.readTextFile(keyFile),
    });
  } catch (error) {
    await certs.remove();
    throw error;
  }
  const conns = new Set<Deno.Conn>();
  const close = (conn: Deno.Conn) => {
    conns.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  };
  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    await from.readable.pipeTo(to.writable).catch(() => {});
    close(from);
    close(to);
  };
  const serving = (async () => {
    for await (const client of listener) {
      conns.add(client);
      // The handshake fails on the client's side (it refuses the certificate): nothing to forward.
      client.handshake().then(async () => {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        conns.add(server);
        void pipe(client, server);
        void pipe(server, client);
      }).catch(() => close(client));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    caFile: certs.caFile,
    async stop() {
      listener.close();
      for (const conn of [...conns]) close(conn);
      await serving;
      await certs.remove();
    },
  };
}
