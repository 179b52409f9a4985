/**
 * The observer's TLS to MariaDB: `[mariadb]` TLS keys and LOG_DUMPER_DB_TLS_* variables become the
 * driver's `ssl`, always verifying the server.
 */
import assert from "node:assert/strict";
import { observerConfig } from "../../utilities/log_dumper/config.ts";
import { poolOptions } from "../../utilities/log_dumper/mariadb_source.ts";
import { createTestCertificates } from "../helpers/tls_endpoint.ts";

Deno.test("observerConfig() reads MariaDB TLS from the file and LOG_DUMPER_DB_TLS_*", async (t) => {
  await t.step("none set: no TLS key at all", () => {
    assert.equal(observerConfig({}).mariadb.tls, undefined);
    assert.equal(poolOptions(observerConfig({}).mariadb, 1000).ssl, undefined);
  });
  await t.step("from the file, the environment winning", () => {
    const config = observerConfig(
      { LOG_DUMPER_DB_TLS_CA_FILE: "/env/ca.pem", LOG_DUMPER_DB_TLS_SERVERNAME: "" },
      '[mariadb]\ntls_ca_file = "/file/ca.pem"\ntls_cert_file = "/c.pem"\ntls_key_file = "/k.pem"\n' +
        'servername = "db.internal"\n',
    );
    assert.deepEqual(config.mariadb.tls, {
      caFile: "/env/ca.pem",
      certFile: "/c.pem",
      keyFile: "/k.pem",
      servername: "db.internal",
    });
  });
  await t.step("every key has its variable", () => {
    const config = observerConfig({
      LOG_DUMPER_DB_TLS_CERT_FILE: "/c.pem",
      LOG_DUMPER_DB_TLS_KEY_FILE: "/k.pem",
      LOG_DUMPER_DB_TLS_SERVERNAME: "db",
    });
    assert.deepEqual(config.mariadb.tls, { certFile: "/c.pem", keyFile: "/k.pem", servername: "db" });
  });
  await t.step("a certificate without its key, or the reverse, is refused", () => {
    for (const env of [{ LOG_DUMPER_DB_TLS_CERT_FILE: "/c.pem" }, { LOG_DUMPER_DB_TLS_KEY_FILE: "/k.pem" }]) {
      assert.throws(() => observerConfig(env), /mariadb\.tls_cert_file\/tls_key_file: .*set both or neither/);
    }
  });
});

Deno.test("poolOptions() passes the files as the driver's ssl, verification on", async () => {
  const certs = await createTestCertificates();
  try {
    const config = observerConfig({
      LOG_DUMPER_DB_TLS_CA_FILE: certs.caFile,
      LOG_DUMPER_DB_TLS_CERT_FILE: certs.certFile,
      LOG_DUMPER_DB_TLS_KEY_FILE: certs.keyFile,
      LOG_DUMPER_DB_TLS_SERVERNAME: "localhost",
    });
    const ssl = poolOptions(config.mariadb, 1000).ssl as Record<string, unknown>;
    assert.equal(ssl.ca, await Deno.readTextFile(certs.caFile));
    assert.equal(ssl.cert, await Deno.readTextFile(certs.certFile));
    assert.equal(ssl.key, await Deno.readTextFile(certs.keyFile));
    assert.equal(ssl.servername, "localhost");
    assert.equal(ssl.rejectUnauthorized, true);
    assert.throws(
      () => poolOptions(observerConfig({ LOG_DUMPER_DB_TLS_CA_FILE: "/nonexistent/ca.pem" }).mariadb, 1000),
      /Cannot read observer setting mariadb\.tls_ca_file "\/nonexistent\/ca\.pem"/,
    );
  } finally {
    await certs.remove();
  }
});
