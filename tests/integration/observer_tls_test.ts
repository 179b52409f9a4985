/**
 * The observer reads a MariaDB log store over TLS: a private server with TLS on, whose observer
 * account may log in over TLS only (`REQUIRE SSL`). The server's certificate is verified: a CA that
 * did not sign it gets no page, and a CA file that cannot be read stops the observer at start.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { type ObserverProcess, startObserverProcess } from "../helpers/observer.ts";
import { startTlsMariadb, type TlsMariadb } from "../helpers/mariadb_tls.ts";
import { loadLabSchema } from "../../lab/db.ts";
import { uniqueId } from "../helpers/services.ts";

Deno.test({
  name: "the observer reads a TLS-only MariaDB account with LOG_DUMPER_DB_TLS_*, verifying the server",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const schema = `beds_t_${uniqueId()}`;
    let server: TlsMariadb | undefined;
    const observers: ObserverProcess[] = [];
    try {
      server = await startTlsMariadb(schema);
      await loadLabSchema({ schema, port: server.port });
      const root = await mariadb.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
      try {
        await root.query(
          `INSERT INTO \`${schema}\`.ms_logs (event, kind, level, at, node, template, op, message, doc)
           VALUES ('tls-event', 'request', 'info', UTC_TIMESTAMP(3), 'tls-node', 'cus', 'read', 'm', '{}')`,
        );
      } finally {
        await root.end();
      }
      const observer = async (env: Record<string, string>) => {
        const started = await startObserverProcess({
          LOG_DUMPER_REFRESH: "0",
          LOG_DUMPER_DB_PORT: String(server!.port),
          LOG_DUMPER_DB_USER: server!.tlsUser.user,
          LOG_DUMPER_DB_PASSWORD: server!.tlsUser.password,
          LOG_DUMPER_DB_NAME: schema,
          ...env,
        });
        observers.push(started);
        return started;
      };

      await t.step("with the server's CA the TLS-only account reads the log", async () => {
        const obs = await observer({ LOG_DUMPER_DB_TLS_CA_FILE: server!.certs.caFile });
        const page = await obs.get("/");
        assert.notEqual(page, "timeout");
        if (page === "timeout") return;
        assert.equal(page.status, 200, page.text.slice(0, 600));
        assert.match(page.text, /tls-event/);
      });

      await t.step("with the server name as servername it still verifies", async () => {
        const obs = await observer({
          LOG_DUMPER_DB_TLS_CA_FILE: server!.certs.caFile,
          LOG_DUMPER_DB_TLS_SERVERNAME: "localhost",
        });
        const page = await obs.get("/");
        assert.ok(page !== "timeout" && page.status === 200 && page.text.includes("tls-event"));
      });

      await t.step("a CA that did not sign the server's certificate gets no page", async () => {
        const obs = await observer({ LOG_DUMPER_DB_TLS_CA_FILE: server!.certs.otherCaFile });
        const page = await obs.get("/");
        assert.ok(page !== "timeout" && page.status === 503, JSON.stringify(page).slice(0, 600));
        assert.doesNotMatch(page.text, /tls-event/);
      });

      await t.step(
        "a CA file that cannot be read stops the observer at start, naming the setting",
        async () => {
          const missing = `/nonexistent/${uniqueId()}/ca.pem`;
          await assert.rejects(
            observer({ LOG_DUMPER_DB_TLS_CA_FILE: missing }),
            (error: Error) => error.message.includes(`mariadb.tls_ca_file "${missing}"`),
          );
        },
      );
    } finally {
      for (const obs of observers) await obs.stop();
      await server?.stop();
    }
  },
});
