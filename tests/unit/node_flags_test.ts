/**
 * Every way of running a node (the tasks, the compiled binary, the bench and
 * soak launchers) uses the same V8 flags: those of `deno task compile`.
 */
import assert from "node:assert/strict";
import { nodeV8Flags, v8FlagsOf } from "../../lab/node_flags.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("the node's V8 flags are the compile task's, in every task that runs a node", () => {
  const flags = nodeV8Flags(ROOT);
  // A young generation of at most 3 × 8 MiB: the node's RSS stays flat over a million requests.
  assert.deepEqual(flags, ["--v8-flags=--max-semi-space-size=8"]);
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<string, string>;
  const runners = Object.entries(tasks).filter(([, command]) =>
    /deno (run|compile) .*src\/main\.ts/.test(command)
  );
  assert.ok(runners.length >= 5, runners.map(([name]) => name).join(","));
  for (const [name, command] of runners) {
    for (const part of command.split("&&").filter((c) => c.includes("src/main.ts"))) {
      assert.deepEqual(v8FlagsOf(part), flags, `task ${name}`);
    }
  }
});

Deno.test("v8FlagsOf() picks only the V8 flags of a command line", () => {
  assert.deepEqual(v8FlagsOf("deno run -A --v8-flags=--a,--b src/main.ts run"), ["--v8-flags=--a,--b"]);
  assert.deepEqual(v8FlagsOf("deno run -A src/main.ts"), []);
});
