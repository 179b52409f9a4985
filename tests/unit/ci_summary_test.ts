/**
 * The last line of `.ci/run`, `tests: N passed, N failed`, agrees with deno test's own summary:
 * top-level tests only, a module that throws while loading counted as failed, and never
 * "0 failed" for a run that exited non-zero.
 */
import assert from "node:assert/strict";

const SCRIPT = `${Deno.cwd()}/.ci/run`;

/**
 * Runs `.ci/run`'s test_summary function: the script, sourced, only defines its functions. Only
 * python3 is on the PATH, so that a script that went on anyway could not find deno to run CI.
 */
async function summary(log: string, rc: number, junit: string): Promise<string> {
  const script = await Deno.readTextFile(SCRIPT);
  const guard = script.indexOf("if (return 0 2>/dev/null); then return 0; fi");
  assert.ok(guard > 0 && guard < script.indexOf("\ncd "), ".ci/run returns early when sourced");
  assert.ok(script.indexOf("test_summary()") < guard, ".ci/run defines test_summary before returning");
  const bin = await Deno.makeTempDir({ prefix: "beds_ci_bin_" });
  try {
    // The interpreter itself: a version manager's shim would need more than python3 on the PATH.
    const which = await new Deno.Command("python3", {
      args: ["-c", "import sys; print(sys.executable)"],
      stdout: "piped",
    }).output();
    await Deno.symlink(new TextDecoder().decode(which.stdout).trim(), `${bin}/python3`);
    const out = await new Deno.Command("/bin/bash", {
      args: ["-c", 'source "$0" && test_summary "$@"', SCRIPT, log, String(rc), junit],
      env: { PATH: bin },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
}

Deno.test(".ci/run counts tests as deno test does", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "beds_ci_summary_" });
  try {
    await Deno.writeTextFile(
      `${dir}/a_test.ts`,
      `Deno.test("passes", () => {});
Deno.test("has a failing step", async (t) => {
  await t.step("fine", () => {});
  await t.step("broken", () => { throw new Error("step failed"); });
});
Deno.test({ name: "ignored", ignore: true, fn() {} });
`,
    );
    await Deno.writeTextFile(`${dir}/b_test.ts`, `throw new Error("fails while loading");\n`);
    await Deno.writeTextFile(`${dir}/c_test.ts`, `Deno.test("passes too", () => {});\n`);
    const junit = `${dir}/junit.xml`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", `--junit-path=${junit}`, "."],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = `${dir}/test.log`;
    const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    await Deno.writeTextFile(log, text);
    assert.equal(run.code, 1);
    // deno's own account: two top-level tests passed, one failed by its step, one module failed to load.
    const plain = text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    assert.match(plain, /FAILED \| 2 passed \(1 step\) \| 2 failed \(1 step\)/);

    await t.step(
      "from deno test's summary line: steps apart, a module that fails to load included",
      async () => {
        assert.equal(await summary(log, run.code, junit), "tests: 2 passed, 2 failed");
      },
    );
    await t.step("without it, the top-level testcases of the JUnit report", async () => {
      assert.equal(await summary(`${dir}/missing.log`, run.code, junit), "tests: 2 passed, 1 failed");
    });
    await t.step("a run that exited non-zero never reports 0 failed", async () => {
      await Deno.writeTextFile(`${dir}/ok.log`, "ok | 3 passed | 0 failed (1s)\n");
      assert.equal(await summary(`${dir}/ok.log`, 0, junit), "tests: 3 passed, 0 failed");
      assert.equal(await summary(`${dir}/ok.log`, 1, junit), "tests: 3 passed, 1 failed");
      assert.equal(await summary(`${dir}/missing.log`, 1, `${dir}/missing.xml`), "tests: 0 passed, 1 failed");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
