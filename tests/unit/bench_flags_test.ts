/**
 * The bench's flags: a malformed number is refused before anything is measured, instead of
 * becoming NaN or 0 (a tolerance of either made every comparison of the gate pass).
 */
import assert from "node:assert/strict";
import { type BenchFlags, parseFlags } from "../../lab/bench/flags.ts";

function flags(...args: string[]): BenchFlags {
  const parsed = parseFlags(args);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.flags;
}

function error(...args: string[]): string {
  const parsed = parseFlags(args);
  assert.ok("error" in parsed, `${args.join(" ")} was accepted`);
  return parsed.error;
}

Deno.test("parseFlags() takes the defaults of a full run and of the gate", () => {
  assert.deepEqual(flags(), {
    gate: false,
    baseline: false,
    only: undefined,
    warmupMs: 1000,
    durationMs: 4000,
    rounds: 2,
    tolerance: 0.75,
    profile: false,
    logstore: "mariadb",
    dbConnections: 2,
    foldParts: true,
  });
  const gate = flags("--gate", "--tolerance", "0.8", "--only", "read_key,mix");
  assert.deepEqual([gate.warmupMs, gate.durationMs, gate.rounds, gate.tolerance], [400, 1000, 5, 0.8]);
  assert.deepEqual(gate.only, ["read_key", "mix"]);
  assert.equal(flags("--tolerance", "1").tolerance, 1);
  assert.equal(flags("--warmup", "0").warmupMs, 0, "no warm-up is a valid choice");
});

Deno.test("parseFlags() refuses a tolerance that is not a number with 0 < t ≤ 1", () => {
  for (const bad of ["0,8", "0", "", " ", "-0.5", "1.5", "NaN", "Infinity", "0x1", "75%"]) {
    assert.match(error("--gate", `--tolerance=${bad}`), /--tolerance must be a number with 0 < t ≤ 1/, bad);
  }
});

Deno.test("parseFlags() refuses malformed counts and durations", () => {
  for (const [flag, bad] of [["--warmup", "-1"], ["--warmup", ""], ["--warmup", "4s"]] as const) {
    assert.match(error(`${flag}=${bad}`), /--warmup must be a whole number of ms ≥ 0/, `${flag} ${bad}`);
  }
  for (const bad of ["0", "", "1,5", "abc", "100.5"]) {
    assert.match(error("--duration", bad), /--duration must be a whole number of ms ≥ 1/, bad);
  }
  for (const bad of ["0", "", "2.5", "three"]) {
    assert.match(error("--rounds", bad), /--rounds must be a whole number ≥ 1/, bad);
  }
  for (const bad of ["0", "", "two"]) {
    assert.match(error("--db-connections", bad), /--db-connections must be a whole number ≥ 1/, bad);
  }
});

Deno.test("parseFlags() refuses the other malformed flags", () => {
  assert.match(error("--logstore", "Off"), /--logstore must be mariadb or off/);
  assert.match(error("--fold-parts", "yes"), /--fold-parts must be on or off/);
  assert.match(error("--only", ""), /--only needs scenario names/);
  assert.match(error("--baseline", "--only", "read_key"), /takes no --only/);
  assert.match(error("--tolerence", "0.8"), /tolerence/);
});

Deno.test("bench --tolerance 0,8 exits with 2 before measuring anything", async () => {
  // An empty root: were the flag accepted, the bench would find no scenarios and fail otherwise.
  const dir = await Deno.makeTempDir({ prefix: "beds_bench_flags_" });
  try {
    for (const bad of ["0,8", ""]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${Deno.cwd()}/lab/bench/main.ts`, "--gate", "--tolerance", bad],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 2, stderr);
      assert.match(stderr, /--tolerance must be a number with 0 < t ≤ 1/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
