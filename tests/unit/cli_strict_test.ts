import assert from "node:assert/strict";
import { cliLines } from "../helpers/cli_lines.ts";

const cli = (args: string[]) => cliLines(args);

/** Asserts a usage failure: exit 2, nothing on stdout, `message` first on stderr. */
function assertUsage(result: { code: number; out: string[]; err: string[] }, message: string | RegExp): void {
  assert.equal(result.code, 2, result.err.join("\n"));
  assert.deepEqual(result.out, []);
  if (typeof message === "string") assert.equal(result.err[0], `beds: ${message}`);
  else assert.match(result.err[0]!, message);
}

// A config directory that does not exist: a flag refused first never gets to load it (that is exit 10).
const NO_CONFIG = ["--config", "/nonexistent/beds-config"];

Deno.test("runCli() version and help refuse flags and arguments like every other command", async (t) => {
  for (const command of ["version", "help"]) {
    await t.step(`${command} --bogus`, async () => {
      assertUsage(await cli([command, "--bogus"]), "Unknown option '--bogus'");
    });
    await t.step(`${command} --env lab`, async () => {
      assertUsage(await cli([command, "--env", "lab"]), `beds ${command} does not take --env`);
    });
    await t.step(`${command} extra`, async () => {
      assertUsage(await cli([command, "extra"]), /^beds: Unexpected argument 'extra'/);
    });
  }
  await t.step("--help is still taken", async () => {
    const result = await cli(["help", "--help"]);
    assert.equal(result.code, 0);
    assert.deepEqual(result.err, []);
  });
});

Deno.test("runCli() templates without an action prints its usage on stderr, exit 2", async () => {
  assertUsage(await cli(["templates"]), /^beds: Usage: beds templates \(list \| show NAME/);
});

Deno.test("runCli() templates validate refuses a DIR and a --dir together", async () => {
  assertUsage(
    await cli(["templates", "validate", "templates", "--dir", "templates/admin"]),
    "beds templates validate takes DIR or --dir, not both",
  );
});

Deno.test("runCli() numeric flags take decimal digits only, and say what was wrong", async (t) => {
  for (
    const [args, message] of [
      [
        ["call", "cus", "read", "--limit", ""],
        'Option --limit must be a non-negative integer in decimal digits only, got ""',
      ],
      [
        ["call", "cus", "read", "--limit", " 0x2"],
        'Option --limit must be a non-negative integer in decimal digits only, got " 0x2"',
      ],
      [
        ["call", "cus", "read", "--limit", "1e2"],
        'Option --limit must be a non-negative integer in decimal digits only, got "1e2"',
      ],
      [
        ["call", "cus", "read", "--offset", "+3"],
        'Option --offset must be a non-negative integer in decimal digits only, got "+3"',
      ],
      [
        ["call", "cus", "read", "--timeout", "1e3"],
        'Option --timeout must be 1–2147483647 ms in decimal digits only, got "1e3"',
      ],
      [["call", "cus", "read", "--timeout", "0"], "Option --timeout must be 1–2147483647 ms, got 0"],
      [
        ["status", "--wait", " 500"],
        'Option --wait must be 1–2147483647 ms in decimal digits only, got " 500"',
      ],
      [
        ["shutdown", "--node", "n1", "--wait", ""],
        'Option --wait must be 1–2147483647 ms in decimal digits only, got ""',
      ],
      [
        ["templates", "reload", "--wait", "0x10"],
        'Option --wait must be 1–2147483647 ms in decimal digits only, got "0x10"',
      ],
      [
        ["logs", "tail", "--limit", "1e2"],
        'Option --limit must be 1–10000 in decimal digits only, got "1e2"',
      ],
      [["logs", "tail", "--limit", "10001"], "Option --limit must be 1–10000, got 10001"],
    ] as const
  ) {
    await t.step(args.map((a) => JSON.stringify(a)).join(" "), async () => {
      assertUsage(await cli([...args, ...NO_CONFIG]), message);
    });
  }
  await t.step("plain digits pass on (exit 10: no config there)", async () => {
    for (
      const args of [
        ["call", "cus", "read", "--limit", "0", "--offset", "007", "--timeout", "500"],
        ["status", "--wait", "500"],
        ["logs", "tail", "--limit", "10000"],
      ]
    ) {
      const result = await cli([...args, ...NO_CONFIG]);
      assert.equal(result.code, 10, `${args.join(" ")}: ${result.err.join("\n")}`);
    }
  });
});

Deno.test("runCli() a flag value that starts with '-' is refused with how to attach it", async (t) => {
  for (
    const [args, flag] of [
      [["call", "cus", "read", "--limit", "-5"], "--limit=-5"],
      [["call", "cus", "read", "--order", "-id"], "--order=-id"],
    ] as const
  ) {
    await t.step(args.join(" "), async () => {
      assertUsage(
        await cli([...args]),
        `Option '${
          args[3]
        }' argument is ambiguous: a value that starts with "-" must be attached with "=", as in ${flag}`,
      );
    });
  }
});

Deno.test("runCli() check names the env it was given when the node is unknown", async () => {
  const result = await cli(["check", "--node", "nosuch", "--config", "config", "--env", "lab"]);
  assert.equal(result.code, 10, result.out.join("\n"));
  assert.equal(result.out[0], "beds check: node nosuch, env lab");
});
