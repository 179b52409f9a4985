import assert from "node:assert/strict";
import { cliLines } from "../helpers/cli_lines.ts";
import { VERSION } from "../../src/version.ts";

const cli = cliLines;

/** Asserts a usage failure: exit 2, `message` first on err, then the short usage. */
function assertUsage(result: { code: number; out: string[]; err: string[] }, message: string): void {
  assert.equal(result.code, 2);
  assert.deepEqual(result.out, []);
  assert.equal(result.err.length, 2);
  assert.equal(result.err[0], `beds: ${message}`);
  assert.match(result.err[1]!, /^Usage:\n {2}beds run /);
  assert.ok(!result.err[1]!.includes(`BEDS ${VERSION}`), "the short usage leaves out the banner");
}

Deno.test("runCli() version prints the version and returns 0", async (t) => {
  for (const args of [["version"], ["--version"]]) {
    await t.step(args.join(" "), async () => {
      const { code, out, err } = await cli(args);
      assert.equal(code, 0);
      assert.deepEqual(out, [`beds ${VERSION} (protocol v1, deno ${Deno.version.deno})`]);
      assert.deepEqual(err, []);
    });
  }
});

Deno.test("runCli() help prints the full usage and returns 0", async (t) => {
  for (const args of [["help"], ["--help"], ["-h"]]) {
    await t.step(args.join(" "), async () => {
      const { code, out, err } = await cli(args);
      assert.equal(code, 0);
      assert.equal(out.length, 1);
      assert.ok(out[0]!.startsWith(`BEDS ${VERSION}: AMQP-first data access (wire protocol v1)`));
      for (
        const command of [
          "beds run",
          "beds check",
          "beds call",
          "beds templates",
          "beds version",
          "beds help",
        ]
      ) {
        assert.ok(out[0]!.includes(command), `usage mentions ${command}`);
      }
      assert.deepEqual(err, []);
    });
  }
});

Deno.test("runCli() returns 2 with a short usage for an unknown or missing command", async (t) => {
  await t.step("unknown command", async () => {
    assertUsage(await cli(["frobnicate"]), 'Unknown command "frobnicate"');
  });
  await t.step("no command", async () => {
    assertUsage(await cli([]), "No command given");
  });
});

Deno.test("runCli() returns 2 for an unknown flag", async (t) => {
  await t.step("check --bogus", async () => {
    assertUsage(await cli(["check", "--bogus"]), "Unknown option '--bogus'");
  });
  await t.step("templates list --bogus", async () => {
    assertUsage(await cli(["templates", "list", "--bogus"]), "Unknown option '--bogus'");
  });
  await t.step("run with a positional argument", async () => {
    const result = await cli(["run", "extra"]);
    assert.equal(result.code, 2);
    assert.match(result.err[0]!, /^beds: .*extra/);
  });
});

Deno.test("runCli() templates, dlq and logs refuse a flag their action does not take, before reading config", async (t) => {
  // A missing config directory would be exit 10: the refusal comes first, and nothing is sent.
  const config = ["--config", "/nonexistent/beds-config"];
  for (
    const [args, flag] of [
      [["templates", "reload", "--dir", "templates"], "--dir"],
      [["templates", "list", "--wait", "500"], "--wait"],
      [["templates", "show", "cus", "--wait", "500"], "--wait"],
      [["templates", "validate", "--wait", "500"], "--wait"],
      [["templates", "verify", "--wait", "500"], "--wait"],
      [["dlq", "purge", "--yes", "--id", "x"], "--id"],
      [["dlq", "purge", "--yes", "--all"], "--all"],
      [["dlq", "list", "--id", "x"], "--id"],
      [["dlq", "replay", "--all", "--yes"], "--yes"],
      [["logs", "chain", "n1-abc-000001", "--follow"], "--follow"],
      [["logs", "chain", "n1-abc-000001", "--limit", "5"], "--limit"],
    ] as const
  ) {
    await t.step(args.join(" "), async () => {
      assertUsage(await cli([...args, ...config]), `beds ${args[0]} ${args[1]} does not take ${flag}`);
    });
  }
  await t.step("their own flags still pass (exit 10: no config there)", async () => {
    for (
      const args of [
        ["templates", "reload", "--wait", "500"],
        ["templates", "list", "--dir", "/nonexistent/templates"],
        ["dlq", "purge", "--yes", "--broker", "rBroker", "--role", "appServer"],
        ["dlq", "replay", "--id", "x"],
        ["dlq", "list", "--json"],
      ]
    ) {
      const result = await cli([...args, ...config]);
      assert.notEqual(result.code, 2, `${args.join(" ")}: ${result.err.join("\n")}`);
    }
  });
});

Deno.test("runCli() call validates its arguments before connecting", async (t) => {
  await t.step("without a template", async () => {
    const result = await cli(["call"]);
    assert.equal(result.code, 2);
    assert.match(result.err[0]!, /^beds: Usage: beds call TEMPLATE OP /);
  });
  await t.step("without an op", async () => {
    const result = await cli(["call", "cus"]);
    assert.equal(result.code, 2);
    assert.match(result.err[0]!, /^beds: Usage: beds call TEMPLATE OP /);
  });
  await t.step("with an unknown op", async () => {
    assertUsage(
      await cli(["call", "cus", "frobnicate"]),
      'Unknown op "frobnicate": expected create, read, update, delete, call',
    );
  });
  await t.step("with a --key that is not JSON", async () => {
    assertUsage(
      await cli(["call", "cus", "read", "--key", "{id:1}"]),
      "Option --key is not valid JSON: {id:1}",
    );
  });
  await t.step("with a --data that is not an object", async () => {
    assertUsage(await cli(["call", "cus", "create", "--data", "[1]"]), "Option --data must be a JSON object");
  });
  await t.step("with a negative --limit", async () => {
    assertUsage(
      await cli(["call", "cus", "read", "--limit=-1"]),
      'Option --limit must be a non-negative integer in decimal digits only, got "-1"',
    );
  });
  await t.step("with a fractional --offset", async () => {
    assertUsage(
      await cli(["call", "cus", "read", "--offset", "1.5"]),
      'Option --offset must be a non-negative integer in decimal digits only, got "1.5"',
    );
  });
  await t.step("--help prints the call usage", async () => {
    const result = await cli(["call", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.out[0]!, /^beds call TEMPLATE OP /);
  });
});

Deno.test("runCli() templates list --config config --env lab lists the lab's REC and REL templates", async () => {
  const { code, out, err } = await cli(["templates", "list", "--config", "config", "--env", "lab"]);
  assert.equal(code, 0);
  assert.deepEqual(err, []);
  assert.match(out[0]!, /^NAME\s+STORE\s+DATABASE\s+OPS\s+CALLS$/);
  const rows = out.slice(1, -1).map((line) => line.split(/\s+/));
  assert.deepEqual(rows, [
    ["cat", "txn", "-", "create", "3", "steps"],
    ["cov", "rel", "-", "read", "4", "parts"],
    ["cus", "mariadb", "lab", "create,read,update,delete", "orders,order_total"],
    ["dsh", "rel", "-", "read", "24", "parts"],
    ["ord", "mariadb", "lab", "create,read", "cancel"],
    ["prd", "mariadb", "lab", "create,read,update,delete", "-"],
  ]);
  assert.equal(out.at(-1), `6 templates in ${Deno.cwd()}/templates`);
});

Deno.test("runCli() templates show cus prints the template as JSON", async () => {
  const { code, out, err } = await cli(["templates", "show", "cus"]);
  assert.equal(code, 0);
  assert.deepEqual(err, []);
  assert.equal(out.length, 1);
  const shown = JSON.parse(out[0]!);
  assert.equal(shown.name, "cus");
  assert.equal(shown.store, "mariadb");
  assert.equal(shown.database, "lab");
  assert.deepEqual(Object.keys(shown.fields), ["id", "email", "name", "status", "created_at"]);
  assert.deepEqual(shown.fields.status, {
    type: "string",
    enum: ["active", "suspended"],
    required: false,
    nullable: false,
  });
  assert.equal(shown.ops.read.view, "v_customers");
  assert.deepEqual(Object.keys(shown.calls), ["orders", "order_total"]);
});

Deno.test("runCli() templates show of an unknown template returns 1", async () => {
  const { code, out, err } = await cli(["templates", "show", "zzz", "--config", "config"]);
  assert.equal(code, 1);
  assert.deepEqual(out, []);
  assert.deepEqual(err, [`beds: unknown template "zzz" in ${Deno.cwd()}/templates`]);
});

Deno.test("runCli() returns exit code 10 with a one-line message for a bad config dir", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "beds_cli_test_" });
  try {
    const missing = `${dir}/missing`;
    await t.step("templates list", async () => {
      const { code, out, err } = await cli(["templates", "list", "--config", missing]);
      assert.equal(code, 10);
      assert.deepEqual(out, []);
      assert.equal(err.length, 1);
      assert.ok(!err[0]!.includes("\n"), "the message is one line");
      assert.match(err[0]!, new RegExp(`^beds: Cannot read config file "${missing}/beds\\.toml": `));
    });
    await t.step("BEDS_CONFIG_DIR is used when --config is absent", async () => {
      const { code, err } = await cli(["templates", "list"], { BEDS_CONFIG_DIR: missing });
      assert.equal(code, 10);
      assert.match(err[0]!, new RegExp(`^beds: Cannot read config file "${missing}/beds\\.toml": `));
    });
    await t.step("an empty BEDS_CONFIG_DIR counts as unset: ./config", async () => {
      const { code, err } = await cli(["templates", "list"], { BEDS_CONFIG_DIR: "" });
      assert.equal(code, 0, err.join("\n"));
    });
    await t.step("a config file that is not TOML", async () => {
      await Deno.writeTextFile(`${dir}/beds.toml`, "x = = 1\n");
      const { code, err } = await cli(["templates", "list", "--config", dir]);
      assert.equal(code, 10);
      assert.deepEqual(err, [
        `beds: Invalid TOML in "${dir}/beds.toml" at line 1, column 5: Invalid TOML document: invalid value`,
      ]);
    });
    await t.step("a config file missing a required table", async () => {
      await Deno.writeTextFile(`${dir}/beds.toml`, '[log]\nlevel = "info"\n');
      const { code, err } = await cli(["templates", "list", "--config", dir]);
      assert.equal(code, 10);
      assert.deepEqual(err, [`beds: Invalid config "${dir}/beds.toml": amqp: missing required value`]);
    });
    await t.step("check reports the config failure without connecting", async () => {
      const { code, out } = await cli(["check", "--config", missing]);
      assert.equal(code, 10);
      assert.match(
        out.at(-1)!,
        new RegExp(`^check failed: config: Cannot read config file "${missing}/beds\\.toml": `),
      );
    });
    await t.step("run names the failed step, config, as for every other step", async () => {
      const { code, err } = await cli(["run", "--config", missing]);
      assert.equal(code, 10);
      assert.match(
        err.join("\n"),
        new RegExp(`^beds: IPL failed at config: Cannot read config file "${missing}/`),
      );
    });
    await t.step("an unknown --env", async () => {
      const { code, err } = await cli(["templates", "list", "--config", "config", "--env", "staging"]);
      assert.equal(code, 10);
      assert.deepEqual(err, ['beds: Unknown BEDS_ENV "staging": expected one of dev, qa, prod, lab, test']);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCli() logs names the log store it cannot open, and why", async () => {
  const { code, err } = await cli(["logs", "tail", "--config", "config", "--env", "lab"], {
    BEDS_MONGODB_URL: "mongodb://127.0.0.1:9",
  });
  assert.equal(code, 1);
  assert.deepEqual(err, [
    "beds: Cannot open the log store (MongoDB of [databases.mongodb]): connect ECONNREFUSED 127.0.0.1:9",
  ]);
});
