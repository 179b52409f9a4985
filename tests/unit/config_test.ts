import assert from "node:assert/strict";
import { bindingsOverlap, checkBindings, type Config, loadConfig } from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { createTestCertificates } from "../helpers/tls_endpoint.ts";
import { MINIMAL_CONFIG } from "../helpers/config_text.ts";

const BASE = MINIMAL_CONFIG;

/** Runs `fn` with a temp config dir holding `files`, then removes the dir. */
async function withConfigDir(
  files: Record<string, string>,
  fn: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "beds_config_test_" });
  try {
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected loadConfig() to throw");
}

Deno.test("loadConfig() reads a minimal base file and fills in defaults", async () => {
  await withConfigDir({ "beds.toml": BASE }, (dir) => {
    const config = loadConfig({ dir });
    assert.equal(config.env, "dev");
    assert.equal(config.configDir, dir);
    assert.deepEqual(config.files, [`${dir}/beds.toml`]);
    assert.equal(config.node.name, "appServer");
    assert.equal(config.log.level, "info");
    assert.equal(config.amqp.host, "127.0.0.1");
    assert.equal(config.amqp.port, 5672);
    assert.equal(config.amqp.exchange, "beds");
    assert.equal(config.brokers.rBroker!.instances, 1);
    assert.equal(config.brokers.rBroker!.prefetch, 50);
    assert.equal(config.brokers.rBroker!.queue_type, "classic");
    assert.deepEqual(config.limits, {
      max_body_bytes: 65536,
      max_reply_bytes: 16_777_216,
      default_read_limit: 100,
      max_read_limit: 1000,
    });
  });
});

Deno.test("loadConfig() names the file and key path of an unknown key", async (t) => {
  await t.step("in the base file", async () => {
    await withConfigDir({ "beds.toml": `bogus = 1\n${BASE}` }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(error.message, `Invalid config "${dir}/beds.toml": bogus: unknown key`);
    });
  });
  await t.step("nested in the base file", async () => {
    await withConfigDir({ "beds.toml": BASE.replace("[amqp]\n", "[amqp]\nhots = 1\n") }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(error.message, `Invalid config "${dir}/beds.toml": amqp.hots: unknown key`);
    });
  });
  await t.step("in the env file, naming the env file", async () => {
    await withConfigDir({ "beds.toml": BASE, "env_qa.toml": "[amqp]\nbogus = 1\n" }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }));
      assert.equal(error.message, `Invalid config "${dir}/env_qa.toml": amqp.bogus: unknown key`);
    });
  });
});

Deno.test("loadConfig() names the file and key path of a value of the wrong type", async (t) => {
  await t.step("in the base file", async () => {
    await withConfigDir({ "beds.toml": BASE.replace("[amqp]\n", '[amqp]\nport = "x"\n') }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": amqp.port: expected number, received string`,
      );
    });
  });
  await t.step("in the env file", async () => {
    await withConfigDir(
      { "beds.toml": BASE, "env_prod.toml": "[brokers.rBroker]\ninstances = true\n" },
      (dir) => {
        const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "prod" } }));
        assert.equal(
          error.message,
          `Invalid config "${dir}/env_prod.toml": brokers.rBroker.instances: expected number, received boolean`,
        );
      },
    );
  });
  await t.step("from an environment variable", async () => {
    await withConfigDir({ "beds.toml": BASE }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_LOG_LEVEL: "loud" } }));
      assert.equal(
        error.message,
        'Invalid config "environment": log.level: Invalid option: expected one of ' +
          '"trace"|"debug"|"info"|"warn"|"error"|"fatal"|"silent"',
      );
    });
  });
});

Deno.test("loadConfig() reports invalid TOML with its file, line and column", async (t) => {
  await t.step("in the base file", async () => {
    await withConfigDir({ "beds.toml": BASE.replace("[amqp]\n", "[amqp]\nport = = 1\n") }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid TOML in "${dir}/beds.toml" at line 2, column 8: Invalid TOML document: invalid value`,
      );
      assert.ok(!error.message.includes("\n"), "the message is one line");
    });
  });
  await t.step("in the env file", async () => {
    await withConfigDir({ "beds.toml": BASE, "env_test.toml": "\n\n[amqp\n" }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "test" } }));
      assert.match(
        error.message,
        new RegExp(`^Invalid TOML in "${dir}/env_test\\.toml" at line 3, column \\d+: `),
      );
    });
  });
});

Deno.test("loadConfig() reports a missing required value with its key path", async () => {
  await withConfigDir({ "beds.toml": BASE.replace('ops = ["read"]\n', "") }, (dir) => {
    const error = configError(() => loadConfig({ dir }));
    assert.equal(
      error.message,
      `Invalid config "${dir}/beds.toml": brokers.rBroker.ops: missing required value`,
    );
  });
});

Deno.test("loadConfig() rejects an unknown BEDS_ENV before reading files", () => {
  const error = configError(() =>
    loadConfig({ dir: "/nonexistent/beds-config", environ: { BEDS_ENV: "staging" } })
  );
  assert.equal(error.message, 'Unknown BEDS_ENV "staging": expected one of dev, qa, prod, lab, test');
});

Deno.test("loadConfig() names the base file when it cannot be read", async () => {
  await withConfigDir({}, (dir) => {
    const error = configError(() => loadConfig({ dir }));
    assert.match(error.message, new RegExp(`^Cannot read config file "${dir}/beds\\.toml": `));
  });
});

Deno.test("loadConfig() deep-merges the env file over the base file", async (t) => {
  const envFile = `[amqp]
port = 5673

[brokers.rBroker]
bindings = ["read.cus"]
prefetch = 7
`;
  await withConfigDir({ "beds.toml": BASE, "env_qa.toml": envFile }, async (dir) => {
    const config = loadConfig({ dir, environ: { BEDS_ENV: "qa" } });
    await t.step("records both files in layer order", () => {
      assert.equal(config.env, "qa");
      assert.deepEqual(config.files, [`${dir}/beds.toml`, `${dir}/env_qa.toml`]);
    });
    await t.step("keys present in the env file override", () => {
      assert.equal(config.amqp.port, 5673);
      assert.equal(config.brokers.rBroker!.prefetch, 7);
    });
    await t.step("sibling keys absent from the env file are kept", () => {
      assert.equal(config.amqp.user, "beds");
      assert.deepEqual(config.brokers.rBroker!.ops, ["read"]);
      assert.deepEqual(config.nodes.appServer!.brokers, ["rBroker"]);
    });
    await t.step("arrays replace rather than concatenate", () => {
      assert.deepEqual(config.brokers.rBroker!.bindings, ["read.cus"]);
    });
  });
});

Deno.test("loadConfig() is fine without an env file for dev", async () => {
  await withConfigDir({ "beds.toml": BASE }, (dir) => {
    const config = loadConfig({ dir, environ: { BEDS_ENV: "dev" } });
    assert.equal(config.env, "dev");
    assert.deepEqual(config.files, [`${dir}/beds.toml`]);
  });
});

Deno.test("loadConfig() lets environment variables override secrets and the log level", async (t) => {
  const envFile = '[amqp]\npass = "from-file"\n';
  await withConfigDir({ "beds.toml": BASE, "env_qa.toml": envFile }, async (dir) => {
    await t.step("BEDS_AMQP_PASS, BEDS_MARIADB_PASSWORD and BEDS_LOG_LEVEL win over both files", () => {
      const config = loadConfig({
        dir,
        environ: {
          BEDS_ENV: "qa",
          BEDS_AMQP_PASS: "amqp-secret",
          BEDS_MARIADB_PASSWORD: "db-secret",
          BEDS_LOG_LEVEL: "debug",
        },
      });
      assert.equal(config.amqp.pass, "amqp-secret");
      assert.equal(config.databases.mariadb!.master.password, "db-secret");
      assert.equal(config.log.level, "debug");
      assert.equal(config.amqp.user, "beds", "siblings of the overridden key are kept");
      assert.equal(config.databases.mariadb!.master.user, "beds");
    });
    await t.step("without the variables the env file value stays", () => {
      const config = loadConfig({ dir, environ: { BEDS_ENV: "qa" } });
      assert.equal(config.amqp.pass, "from-file");
      assert.equal(config.databases.mariadb!.master.password, "");
      assert.equal(config.log.level, "info");
    });
    await t.step("an empty variable does not override", () => {
      const config = loadConfig({ dir, environ: { BEDS_ENV: "qa", BEDS_AMQP_PASS: "" } });
      assert.equal(config.amqp.pass, "from-file");
    });
  });
});

Deno.test("loadConfig() returns a deeply frozen object", async () => {
  await withConfigDir({ "beds.toml": BASE }, (dir) => {
    const config: Config = loadConfig({ dir });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.amqp));
    assert.ok(Object.isFrozen(config.brokers.rBroker));
    assert.ok(Object.isFrozen(config.brokers.rBroker!.bindings));
    assert.throws(() => {
      (config.amqp as { pass: string }).pass = "changed";
    }, TypeError);
    assert.throws(() => {
      (config.brokers.rBroker!.bindings as string[]).push("create.*");
    }, TypeError);
    assert.equal(config.amqp.pass, "");
    assert.deepEqual(config.brokers.rBroker!.bindings, ["read.*"]);
  });
});

Deno.test("loadConfig() resolves templates.dir relative to the config directory", async (t) => {
  await t.step("the default ../templates", async () => {
    await withConfigDir({ "beds.toml": BASE }, (dir) => {
      const parent = dir.slice(0, dir.lastIndexOf("/"));
      assert.equal(loadConfig({ dir }).templatesDir, `${parent}/templates`);
    });
  });
  await t.step("a relative subdirectory", async () => {
    await withConfigDir({ "beds.toml": `[templates]\ndir = "./tpl/rec"\n${BASE}` }, (dir) => {
      assert.equal(loadConfig({ dir }).templatesDir, `${dir}/tpl/rec`);
    });
  });
  await t.step("an absolute path is kept", async () => {
    await withConfigDir({ "beds.toml": `[templates]\ndir = "/srv/beds/templates"\n${BASE}` }, (dir) => {
      assert.equal(loadConfig({ dir }).templatesDir, "/srv/beds/templates");
    });
  });
});

Deno.test("loadConfig() loads the repository's config/beds.toml with BEDS_ENV=lab", () => {
  const config = loadConfig({ dir: "config", environ: { BEDS_ENV: "lab" } });
  const root = Deno.cwd();
  assert.equal(config.env, "lab");
  assert.equal(config.configDir, `${root}/config`);
  assert.deepEqual(config.files, [`${root}/config/beds.toml`, `${root}/config/env_lab.toml`]);
  assert.equal(config.templatesDir, `${root}/templates`);
  assert.equal(config.amqp.user, "guest", "env_lab.toml overrides the base user");
  assert.equal(config.amqp.pass, "guest");
  assert.equal(config.databases.mariadb!.master.user, "root");
  assert.equal(config.databases.mariadb!.schemas.lab, "beds_lab");
  assert.deepEqual(config.nodes.appServer!.brokers, ["rBroker", "wBroker", "mBroker"]);
  assert.equal(config.brokers.wBroker!.queue_type, "quorum");
});

Deno.test("loadConfig() cross-checks node roles and broker bindings", async (t) => {
  await t.step("a node role naming an unknown broker", async () => {
    await withConfigDir({
      "beds.toml": BASE.replace('brokers = ["rBroker"]', 'brokers = ["rBroker", "nope"]'),
    }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": nodes.appServer.brokers.1: unknown broker "nope"`,
      );
    });
  });
  await t.step("node.name naming an undefined role", async () => {
    await withConfigDir({ "beds.toml": `[node]\nname = "ghost"\n${BASE}` }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": node.name: node "ghost" is not defined in [nodes]`,
      );
    });
  });
  await t.step("a binding routing an op the broker may not run", async () => {
    await withConfigDir({
      "beds.toml": BASE.replace('bindings = ["read.*"]', 'bindings = ["read.*", "delete.cus"]'),
    }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": brokers.rBroker.bindings.1: ` +
          'binding "delete.cus" routes op "delete", which the broker may not run',
      );
    });
  });
  await t.step("two brokers with overlapping bindings (read.* vs *.cus)", async () => {
    const text = `${BASE}\n[brokers.cusBroker]\nops = ["read", "update"]\nbindings = ["*.cus"]\n`;
    await withConfigDir({ "beds.toml": text }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": brokers.cusBroker.bindings.0: ` +
          'binding "*.cus" overlaps "read.*" of broker "rBroker"',
      );
    });
  });
  await t.step("an overlapping binding added by the env file names the env file", async () => {
    const envFile = `[brokers.cusBroker]\nops = ["read"]\nbindings = ["read.cus"]\n`;
    await withConfigDir({ "beds.toml": BASE, "env_qa.toml": envFile }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/env_qa.toml": brokers.cusBroker.bindings.0: ` +
          'binding "read.cus" overlaps "read.*" of broker "rBroker"',
      );
    });
  });
  await t.step("the same keys on the data and the admin exchange do not overlap", async () => {
    const text =
      `${BASE}\n[brokers.adminLogs]\nops = ["read"]\nexchange = "admin"\nbindings = ["read.mst"]\n`;
    await withConfigDir({ "beds.toml": text }, (dir) => {
      const config = loadConfig({ dir });
      assert.equal(config.brokers.adminLogs!.exchange, "admin");
      assert.equal(config.brokers.rBroker!.exchange, "data");
    });
  });
  await t.step("two admin-exchange brokers with overlapping bindings", async () => {
    const text = `${BASE}\n[brokers.a1]\nops = ["read"]\nexchange = "admin"\nbindings = ["read.*"]\n` +
      `\n[brokers.a2]\nops = ["read"]\nexchange = "admin"\nbindings = ["read.nst"]\n`;
    await withConfigDir({ "beds.toml": text }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/beds.toml": brokers.a2.bindings.0: binding "read.nst" overlaps "read.*" of broker "a1"`,
      );
    });
  });
  await t.step("two brokers with disjoint bindings (read.* vs create.*) load", async () => {
    const text = `${BASE}\n[brokers.wBroker]\nops = ["create"]\nbindings = ["create.*"]\n`;
    await withConfigDir({ "beds.toml": text }, (dir) => {
      const config = loadConfig({ dir });
      assert.deepEqual(Object.keys(config.brokers).sort(), ["rBroker", "wBroker"]);
      assert.deepEqual(config.brokers.wBroker!.bindings, ["create.*"]);
    });
  });
});

Deno.test("checkBindings() returns undefined for a consistent config", () => {
  const config = loadConfig({ dir: "config", environ: { BEDS_ENV: "lab" } });
  assert.equal(checkBindings(config), undefined);
});

Deno.test("loadConfig() refuses what would stop only `beds run`: the log store's schema, a shared port", async (t) => {
  const schemas = '\n[databases.mariadb.schemas]\nlab = "beds_lab"\nlogs = "beds_logs"\n';
  await t.step("a MariaDB log store whose database is not a key of the schemas (a typo)", async () => {
    const envFile = '[logstore]\nstore = "mariadb"\ndatabase = "lgos"\n';
    await withConfigDir({ "beds.toml": BASE + schemas, "env_qa.toml": envFile }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/env_qa.toml": logstore.database: ` +
          '"lgos" is not a key of [databases.mariadb.schemas] ("lab", "logs")',
      );
    });
  });
  await t.step("a MariaDB log store without [databases.mariadb]", async () => {
    const text = BASE.replace(/\[databases\.mariadb\.master\][^[]*/, "") +
      '\n[databases]\n\n[logstore]\nstore = "mariadb"\n';
    await withConfigDir({ "beds.toml": text }, (dir) => {
      assert.match(
        configError(() => loadConfig({ dir })).message,
        /: logstore\.store: is "mariadb", but \[databases\.mariadb\] is not configured$/,
      );
    });
  });
  await t.step("a MariaDB log store on a mapped schema loads", async () => {
    await withConfigDir({ "beds.toml": `${BASE}${schemas}\n[logstore]\nstore = "mariadb"\n` }, (dir) => {
      assert.equal(loadConfig({ dir }).logstore.database, "logs");
    });
  });
  const gatewayRole = "\n[nodes.gateway]\nbrokers = []\ngateway = true\n";
  for (
    const [name, http, gateway] of [
      ["the same host and port", "port = 8080", "port = 8080"],
      ["one host listening on every address", 'host = "0.0.0.0"\nport = 9000', "port = 9000"],
      ["every IPv6 address and IPv6 loopback", 'host = "::"\nport = 9000', 'host = "[::1]"\nport = 9000'],
    ]
  ) {
    await t.step(`[http] and [gateway] on ${name}, with a gateway role`, async () => {
      const text = `${BASE}${gatewayRole}\n[http]\n${http}\n\n[gateway]\n${gateway}\n`;
      await withConfigDir({ "beds.toml": text }, (dir) => {
        const error = configError(() => loadConfig({ dir }));
        assert.match(error.message, /^Invalid config ".*beds\.toml": gateway\.port: /);
        assert.match(
          error.message,
          /is also \[http\]'s listener \(.*\): a node of role "gateway" opens both/,
        );
      });
    });
  }
  await t.step("one port for both loads without a gateway role, or on free ports (0)", async () => {
    for (
      const text of [
        `${BASE}\n[http]\nport = 8080\n`,
        `${BASE}${gatewayRole}\n[http]\nport = 0\n\n[gateway]\nport = 0\n`,
        `${BASE}${gatewayRole}\n[http]\nhost = "127.0.0.2"\nport = 8080\n`,
        // Every IPv4 address does not take IPv6 loopback: both bind.
        `${BASE}${gatewayRole}\n[http]\nhost = "0.0.0.0"\nport = 9464\n\n[gateway]\nhost = "::1"\nport = 9464\n`,
      ]
    ) {
      await withConfigDir({ "beds.toml": text }, (dir) => {
        loadConfig({ dir });
      });
    }
  });
});

Deno.test("bindingsOverlap() is true when some routing key matches both bindings", async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ["read.*", "*.cus", true],
    ["*.cus", "read.*", true],
    ["read.*", "create.*", false],
    ["read.cus", "read.cus", true],
    ["read.cus", "read.ord", false],
    ["read.cus", "create.cus", false],
    ["#.cus", "read.cus", true],
    ["read.#", "read.ord", true],
    ["*.*", "delete.prd", true],
    ["*.cus", "*.ord", false],
  ];
  for (const [a, b, expected] of cases) {
    await t.step(`${a} vs ${b} → ${expected}`, () => {
      assert.equal(bindingsOverlap(a, b), expected);
    });
  }
});

Deno.test("loadConfig() checks URLs without repeating them, and takes a MongoDB seed list", async (t) => {
  const mongo = (url: string) => `${BASE}\n[databases.mongodb]\nurl = "${url}"\n`;
  await t.step("a replica set's seed list and an SRV URL load", async () => {
    for (
      const url of [
        "mongodb://u:p@m1:27017,m2:27017/beds?replicaSet=rs0",
        "mongodb+srv://u:p@cluster.example",
      ]
    ) {
      await withConfigDir({ "beds.toml": mongo(url) }, (dir) => {
        assert.equal(loadConfig({ dir }).databases.mongodb!.url, url);
      });
    }
  });
  await t.step(
    "an AMQP or MongoDB URL that does not parse is refused, its password never printed",
    async () => {
      const amqp = BASE.replace(
        '[amqp]\nuser = "beds"',
        '[amqp]\nurl = "amqp://beds:S3cr#t/x@mq:5672/"\nuser = "beds"',
      );
      for (
        const [text, path] of [
          [amqp, "amqp.url"],
          [mongo("mongo://beds:S3cr#t@m1"), "databases.mongodb.url"],
          [mongo("mongodb://beds:S3cr#t@m1"), "databases.mongodb.url"],
        ]
      ) {
        await withConfigDir({ "beds.toml": text! }, (dir) => {
          const error = configError(() => loadConfig({ dir }));
          assert.match(error.message, new RegExp(`${path!.replaceAll(".", "\\.")}: expected a URL such as`));
          assert.ok(!error.message.includes("S3cr"), error.message);
        });
      }
    },
  );
  await t.step("BEDS_AMQP_USER or BEDS_AMQP_PASS with an amqp.url is refused, not dropped", async () => {
    const withUrl = BASE.replace(
      '[amqp]\nuser = "beds"',
      '[amqp]\nurl = "amqp://mq:5672/%2F"\nuser = "beds"',
    );
    await withConfigDir({ "beds.toml": withUrl }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_AMQP_PASS: "S3cret" } }));
      assert.match(error.message, /BEDS_AMQP_PASS set, but amqp\.url decides the login/);
      assert.ok(!error.message.includes("S3cret"), error.message);
      assert.equal(loadConfig({ dir }).amqp.url, "amqp://mq:5672/%2F");
    });
  });
  await t.step(
    "BEDS_AMQP_USER or BEDS_AMQP_PASS beside a BEDS_AMQP_URL that lacks them is refused",
    async () => {
      await withConfigDir({ "beds.toml": BASE }, (dir) => {
        const load = (environ: Record<string, string>) => loadConfig({ dir, environ });
        // Without credentials the URL logs in as guest; with a user only, with no password.
        for (
          const [url, environ, refused, login] of [
            [
              "amqp://mq:5672/%2F",
              { BEDS_AMQP_USER: "beds", BEDS_AMQP_PASS: "S3cret" },
              "BEDS_AMQP_USER and BEDS_AMQP_PASS",
              "as guest",
            ],
            ["amqp://mq:5672/%2F", { BEDS_AMQP_PASS: "S3cret" }, "BEDS_AMQP_PASS", "as guest"],
            ["amqp://beds@mq:5672/%2F", { BEDS_AMQP_PASS: "S3cret" }, "BEDS_AMQP_PASS", "with no password"],
          ] as const
        ) {
          const error = configError(() => load({ BEDS_AMQP_URL: url, ...environ }));
          assert.equal(
            error.message,
            `${refused} set, but BEDS_AMQP_URL decides the login and would log in ${login}: ` +
              "put the credentials in BEDS_AMQP_URL (amqp://user:pass@host/vhost), or unset it",
          );
        }
        // A URL with both replaces them, by design: the environment chose it.
        const config = load({ BEDS_AMQP_URL: "amqp://app:pw@mq:5672/%2F", BEDS_AMQP_USER: "beds" });
        assert.equal(config.amqp.url, "amqp://app:pw@mq:5672/%2F");
      });
    },
  );
  await t.step("an AMQP URL is amqp:// or amqps://, and amqps:// where [amqp.tls] is set", async () => {
    const withUrl = (url: string, tls = "") =>
      BASE.replace('[amqp]\nuser = "beds"', `[amqp]\nurl = "${url}"\nuser = "beds"`) + tls;
    const tls = '\n[amqp.tls]\nca = "/etc/ssl/ca.pem"\n';
    for (
      const [text, message] of [
        [
          withUrl("http://beds:S3cret@mq:5672/"),
          /amqp\.url: expected amqp:\/\/ or amqps:\/\/, got http:\/\//,
        ],
        [withUrl("amqp://beds:S3cret@mq:5672/", tls), /amqp\.url: is amqp:\/\/ but \[amqp\.tls\] is set/],
      ] as const
    ) {
      await withConfigDir({ "beds.toml": text }, (dir) => {
        const error = configError(() => loadConfig({ dir }));
        assert.match(error.message, message);
        assert.ok(!error.message.includes("S3cret"), error.message);
      });
    }
    // The CA file must exist and be a certificate: load checks it.
    const certs = await createTestCertificates();
    try {
      const ca = `\n[amqp.tls]\nca = "${certs.caFile}"\n`;
      await withConfigDir({ "beds.toml": withUrl("amqps://beds:S3cret@mq:5671/", ca) }, (dir) => {
        assert.equal(loadConfig({ dir }).amqp.url, "amqps://beds:S3cret@mq:5671/");
      });
    } finally {
      await certs.remove();
    }
  });
});

Deno.test("loadConfig() refuses a default read limit above the maximum", async (t) => {
  await t.step("set above the maximum in the env file", async () => {
    await withConfigDir({
      "beds.toml": BASE,
      "env_qa.toml": "[limits]\ndefault_read_limit = 5000\n",
    }, (dir) => {
      const error = configError(() => loadConfig({ dir, environ: { BEDS_ENV: "qa" } }));
      assert.equal(
        error.message,
        `Invalid config "${dir}/env_qa.toml": limits.default_read_limit: 5000 is greater than ` +
          "limits.max_read_limit (1000): every read without a limit would be refused",
      );
    });
  });
  await t.step("a maximum lowered below the default", async () => {
    await withConfigDir({ "beds.toml": `${BASE}\n[limits]\nmax_read_limit = 50\n` }, (dir) => {
      const error = configError(() => loadConfig({ dir }));
      assert.match(
        error.message,
        /limits\.default_read_limit: 100 is greater than limits\.max_read_limit \(50\)/,
      );
    });
  });
  await t.step("equal limits load", async () => {
    await withConfigDir({
      "beds.toml": `${BASE}\n[limits]\ndefault_read_limit = 50\nmax_read_limit = 50\n`,
    }, (dir) => {
      assert.equal(loadConfig({ dir }).limits.default_read_limit, 50);
    });
  });
});
