/**
 * `beds logs tail` prints the same records in the same order whether a fan-out's parts were folded
 * into their parent's record (`[logstore] fold_parts`) or stored one each: the parent before its
 * parts, the parts in order, the oldest first; `--limit` keeps the same newest records, and
 * `--follow` prints them alike.
 */
import assert from "node:assert/strict";
import { runCli } from "../../src/cli/mod.ts";
import type { LogEvent } from "../../src/logstore/mod.ts";
import { cli, createTestEnv, dbQuery, ROOT, type TestEnv, waitFor } from "../helpers/services.ts";
import { recordEvents, withFoldedAndNot } from "../helpers/log_store.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";

const LOGSTORE_TOML = `
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
flush_ms = 50
`;

/** Plain requests and fan-outs: folded whole, folded but for a failed last part, and failed (not folded). */
const EVENTS: LogEvent[] = [
  requestEvent({ event: "p1-n-b-1" }),
  fanOutEvent("fa-n-b-1", [{}, { template: "cus" }, {}]),
  requestEvent({ event: "p2-n-b-1" }),
  fanOutEvent("fb-n-b-1", [{}, {}, { code: "NOT_FOUND", message: "gone" }]),
  fanOutEvent("fc-n-b-1", [{}, {}], { code: "DB_UNAVAILABLE", message: "down", action: "retry" }),
  requestEvent({ event: "p3-n-b-1" }),
];

/** Every event of {@link EVENTS}, in the order they happened: a parent, then its parts. */
const IN_ORDER = [
  "p1-n-b-1",
  "fa-n-b-1",
  "fa-n-b-1.1",
  "fa-n-b-1.2",
  "fa-n-b-1.3",
  "p2-n-b-1",
  "fb-n-b-1",
  "fb-n-b-1.1",
  "fb-n-b-1.2",
  "fb-n-b-1.3",
  "fc-n-b-1",
  "fc-n-b-1.1",
  "fc-n-b-1.2",
  "p3-n-b-1",
];

const eventsOf = (jsonLines: string) =>
  jsonLines.split("\n").filter(Boolean).map((line) => JSON.parse(line).event as string);

Deno.test("beds logs tail prints a fan-out's parts in order after their parent, folded or not", (t) =>
  withFoldedAndNot(LOGSTORE_TOML, EVENTS, async (envOf) => {
    const stored = async (env: TestEnv) =>
      Number((await dbQuery<Array<{ n: number }>>(env, "SELECT COUNT(*) AS n FROM ms_logs"))[0]!.n);
    assert.ok(await stored(envOf(true)) < await stored(envOf(false)), "parts were folded");
    const tail = async (fold: boolean, args: string[]) => {
      const run = await cli(["logs", "tail", ...args, ...envOf(fold).cliArgs]);
      assert.equal(run.code, 0, run.err);
      return run.out;
    };

    for (const fold of [true, false]) {
      await t.step(`fold_parts = ${fold}: --json in the order the events happened`, async () => {
        assert.deepEqual(eventsOf(await tail(fold, ["--json"])), IN_ORDER);
      });
      await t.step(`fold_parts = ${fold}: --limit keeps the newest records, cutting a fan-out`, async () => {
        assert.deepEqual(eventsOf(await tail(fold, ["--json", "--limit", "11"])), IN_ORDER.slice(-11));
      });
    }
    // Not `--template prd`: a folded part is found through its parent's record only (README).
    for (const args of [[], ["--level", "info"], ["--limit", "3"], ["--node", "n"]]) {
      await t.step(`the same lines either way: ${args.join(" ") || "(no filter)"}`, async () => {
        const want = await tail(false, args);
        assert.ok(want.length > 0);
        assert.equal(await tail(true, args), want);
      });
    }
  }));

Deno.test("beds logs tail --follow prints a fan-out's parts in order after their parent, folded or not", async (t) => {
  for (const fold of [true, false]) {
    await t.step(`fold_parts = ${fold}`, async () => {
      const env = await createTestEnv({ extraToml: LOGSTORE_TOML });
      const stop = new AbortController();
      const out: string[] = [];
      const err: string[] = [];
      let done: Promise<number> | undefined;
      try {
        await recordEvents(env, EVENTS.slice(0, 2), fold);
        done = runCli(["logs", "tail", "--follow", "--json", ...env.cliArgs], {
          out: (line) => out.push(line),
          err: (line) => err.push(line),
          environ: {},
          signal: stop.signal,
        });
        await waitFor(() => out.length === 5, 10_000, `the first tail (${err.join("\n")})`);
        // Stored while it follows: read by insertion id, a page newest first.
        await recordEvents(env, EVENTS.slice(2), fold);
        await waitFor(
          () => out.length >= IN_ORDER.length,
          10_000,
          `the records followed (${err.join("\n")})`,
        );
        stop.abort();
        assert.equal(await done, 0, err.join("\n"));
        assert.deepEqual(eventsOf(out.join("\n")), IN_ORDER);
      } finally {
        stop.abort();
        await done?.catch(() => {});
        await env.cleanup();
      }
    });
  }
});
