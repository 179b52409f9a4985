/**
 * TLS files are checked at config load (exit 10), as a connect would use them: readable, PEM, a
 * client certificate only with its own key; and verification may not be switched off in prod.
 * Files come from a throw-away CA made with openssl.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { unverifiedTls } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { checkTlsFiles } from "../../src/tls.ts";
import { createTestCertificates, type TestCertificates } from "../helpers/tls_endpoint.ts";
import { MINIMAL_CONFIG } from "../helpers/config_text.ts";

const BASE = MINIMAL_CONFIG;

/** The test certificates plus bad files next to them. */
async function withFiles(
  fn: (
    files: TestCertificates & { dir: string; caKey: string; bad: Record<string, string> },
  ) => Promise<void>,
) {
  const certs = await createTestCertificates();
  const dir = certs.caFile.slice(0, certs.caFile.lastIndexOf("/"));
  const key = await Deno.readTextFile(certs.keyFile);
  const bad: Record<string, string> = {
    garbage: "garbage PEM SECRET-CONTENT\n",
    truncatedKey: key.slice(0, key.length - 200) + "\n-----END PRIVATE KEY-----\n",
    halfKey: key.slice(0, 400),
  };
  for (const [name, text] of Object.entries(bad)) {
    const path = `${dir}/${name}.pem`;
    await Deno.writeTextFile(path, text);
    bad[name] = path;
  }
  try {
    await fn({ ...certs, dir, caKey: `${dir}/ca.key`, bad });
  } finally {
    await certs.remove();
  }
}

function loadError(toml: string, env = "test"): ConfigError {
  const dir = Deno.makeTempDirSync({ prefix: "beds_tls_cfg_" });
  try {
    Deno.writeTextFileSync(`${dir}/beds.toml`, `${BASE}${toml}`);
    try {
      loadConfig({ dir, environ: { BEDS_ENV: env } });
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(!error.message.includes("SECRET-CONTENT"), error.message);
      assert.ok(!error.message.includes("PRIVATE KEY"), error.message);
      return error;
    }
    throw new Error("loadConfig() did not fail");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function loads(toml: string, env = "test") {
  const dir = Deno.makeTempDirSync({ prefix: "beds_tls_cfg_" });
  try {
    Deno.writeTextFileSync(`${dir}/beds.toml`, `${BASE}${toml}`);
    return loadConfig({ dir, environ: { BEDS_ENV: env } });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("checkTlsFiles() refuses a client identity a connect would drop or fail on", async (t) => {
  await withFiles(async (f) => {
    const tls = (t: Record<string, string>) => ({ reject_unauthorized: true, ...t });
    await t.step("good files pass", () => {
      assert.equal(checkTlsFiles(tls({ ca: f.caFile, cert: f.certFile, key: f.keyFile })), undefined);
      assert.equal(checkTlsFiles(tls({ ca: f.caFile })), undefined);
      assert.equal(checkTlsFiles(tls({})), undefined);
    });
    await t.step(
      "one file holding the certificate and its key, in either order, passes as both",
      async () => {
        const [cert, key] = [await Deno.readTextFile(f.certFile), await Deno.readTextFile(f.keyFile)];
        for (const [name, text] of [["cert_key", cert + key], ["key_cert", key + cert]] as const) {
          const both = `${f.dir}/${name}.pem`;
          await Deno.writeTextFile(both, text);
          assert.equal(checkTlsFiles(tls({ ca: f.caFile, cert: both, key: both })), undefined, name);
        }
      },
    );
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      ["cert without key", { cert: f.certFile }, "cert", /set without key/],
      ["key without cert", { key: f.keyFile }, "key", /set without cert/],
      ["a garbage key", { cert: f.certFile, key: f.bad.garbage! }, "key", /holds no valid, unencrypted PEM/],
      ["a truncated key", { cert: f.certFile, key: f.bad.truncatedKey! }, "key", /no valid/],
      ["half a key", { cert: f.certFile, key: f.bad.halfKey! }, "key", /no valid/],
      ["a key of another certificate", { cert: f.certFile, key: f.caKey }, "key", /is not the key of/],
      ["a garbage cert", { cert: f.bad.garbage!, key: f.keyFile }, "cert", /holds no valid PEM certificate/],
      ["a key as cert", { cert: f.keyFile, key: f.keyFile }, "cert", /holds no valid PEM certificate/],
      ["a garbage CA", { ca: f.bad.garbage! }, "ca", /holds no valid PEM certificate/],
      ["a missing CA", { ca: `${f.dir}/nope.pem` }, "ca", /cannot read file ".*nope\.pem"/],
      ["a missing key", { cert: f.certFile, key: `${f.dir}/nope.key` }, "key", /cannot read file/],
    ];
    for (const [what, files, key, text] of cases) {
      await t.step(what, () => {
        const problem = checkTlsFiles(tls(files));
        assert.equal(problem?.key, key, JSON.stringify(problem));
        assert.match(problem!.text, text);
        assert.ok(!problem!.text.includes("SECRET-CONTENT"));
      });
    }
  });
});

Deno.test("loadConfig() checks every TLS table's files and refuses unverified TLS in prod", async (t) => {
  await withFiles(async (f) => {
    await t.step("good files load", () => {
      const config = loads(
        `[amqp.tls]\nca = "${f.caFile}"\ncert = "${f.certFile}"\nkey = "${f.keyFile}"\n` +
          `[databases.mariadb.master.tls]\nca = "${f.caFile}"\n`,
      );
      assert.equal(config.amqp.tls?.ca, f.caFile);
    });
    const tables = [
      "amqp.tls",
      "databases.mariadb.master.tls",
      "databases.mariadb.secondary.tls",
      "databases.mongodb.tls",
    ];
    const section = (table: string) =>
      table === "databases.mariadb.secondary.tls"
        ? `[databases.mariadb.secondary]\nuser = "r"\n[${table}]\n`
        : table === "databases.mongodb.tls"
        ? `[databases.mongodb]\n[${table}]\n`
        : `[${table}]\n`;
    for (const table of tables) {
      await t.step(`${table}: a key that is not the cert's is refused, naming key path and file`, () => {
        const error = loadError(`${section(table)}cert = "${f.certFile}"\nkey = "${f.caKey}"\n`);
        assert.match(
          error.message,
          new RegExp(`: ${table.replaceAll(".", "\\.")}\\.key: file ".*ca\\.key" is not`),
        );
      });
      await t.step(`${table}: reject_unauthorized = false is refused in prod, allowed elsewhere`, () => {
        const toml = `${section(table)}ca = "${f.caFile}"\nreject_unauthorized = false\n`;
        const error = loadError(toml, "prod");
        assert.match(
          error.message,
          new RegExp(
            `${table.replaceAll(".", "\\.")}\\.reject_unauthorized: is false: TLS certificate verification`,
          ),
        );
        loads(toml, "qa");
      });
    }
    await t.step("a missing file is a config error (exit 10), not a connect failure", () => {
      const error = loadError(`[amqp.tls]\nca = "${f.dir}/missing-ca.pem"\n`);
      assert.match(error.message, /amqp\.tls\.ca: cannot read file ".*missing-ca\.pem"/);
    });
    await t.step("cert without key", () => {
      const error = loadError(`[databases.mariadb.master.tls]\ncert = "${f.certFile}"\n`);
      assert.match(error.message, /databases\.mariadb\.master\.tls\.cert: set without key/);
    });
    await t.step("a garbage key", () => {
      const error = loadError(`[amqp.tls]\ncert = "${f.certFile}"\nkey = "${f.bad.garbage}"\n`);
      assert.match(error.message, /amqp\.tls\.key: file ".*garbage\.pem" holds no valid/);
    });
  });
});

Deno.test("a MongoDB URL option that switches certificate checks off is refused in prod, warned elsewhere", async (t) => {
  const url = (query: string) =>
    `[databases.mongodb]\nurl = "mongodb://app:SECRET-PASS@db1:27017,db2/?${query}"\n`;
  for (
    const [query, option] of <Array<[string, string]>> [
      ["tlsAllowInvalidCertificates=true", "tlsAllowInvalidCertificates"],
      ["tls=true&TLSINSECURE=true", "tlsInsecure"],
      ["tlsallowinvalidhostnames=%74rue&w=1", "tlsAllowInvalidHostnames"],
    ]
  ) {
    await t.step(query, () => {
      const error = loadError(url(query), "prod");
      assert.match(
        error.message,
        new RegExp(
          `databases\\.mongodb\\.url: sets ${option}=true: TLS certificate verification must stay on`,
        ),
      );
      assert.ok(!error.message.includes("SECRET-PASS"), error.message);
      const config = loads(url(query), "qa");
      assert.deepEqual(unverifiedTls(config), [{
        path: "databases.mongodb.url",
        setting: `sets ${option}=true`,
      }]);
    });
  }
  await t.step("false, or no such option, is verification on", () => {
    for (
      const query of [
        "tlsAllowInvalidCertificates=false",
        "tls=true&tlsInsecure=false",
        "appName=tlsInsecure",
      ]
    ) {
      assert.deepEqual(unverifiedTls(loads(url(query), "prod")), [], query);
    }
  });
});
