/**
 * A bench scenario whose BEDS node dies fails, even though an earlier round measured well:
 * the best-round summary must never stand in for a node that stopped answering.
 */
import assert from "node:assert/strict";
import { createBenchEnv } from "../../lab/bench/env.ts";
import { createRunner } from "../../lab/bench/runner.ts";
import { loadScenarios } from "../../lab/bench/scenario.ts";

Deno.test({
  name: "the bench fails a scenario when its node exits between rounds",
  async fn() {
    const scenario = (await loadScenarios("lab/bench/scenarios")).find((s) => s.name === "read_key")!;
    // One node is enough: the metrics-off variant would only lengthen the test.
    const env = await createBenchEnv({ logstore: "off" });
    const runner = await createRunner({
      env,
      warmupMs: 200,
      durationMs: 500,
      rounds: 2,
      variants: false,
      progress: (line, final) => {
        // Right after round 2's naive raw service, just before BEDS's round 2.
        if (final && line.includes("raw echo+db 2/2")) {
          for (const pid of runner.nodePids()) Deno.kill(pid, "SIGKILL");
        }
      },
    });
    try {
      const killed = runner.nodePids();
      await assert.rejects(runner.run(scenario), (error: Error) => {
        assert.match(error.message, new RegExp(`BEDS node \\S+ \\(pid ${killed[0]}\\) exited with 137`));
        assert.match(error.message, /during read_key · BEDS 2\/2/);
        return true;
      });
      assert.deepEqual(
        runner.nodePids(),
        [],
        "the dead node is dropped, so the next scenario starts a fresh one",
      );
    } finally {
      await runner.close();
      await env.cleanup();
    }
  },
});
