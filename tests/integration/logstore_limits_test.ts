/**
 * The MariaDB log store against what a client may send and how `beds logs tail` is asked: records
 * of requests echoing long field names are stored with the rest, a batch larger than one statement
 * is written in several, a tail answers alike whether a fan-out's parts were folded or not, and a
 * filter longer than its column is refused with a clear message.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { sendAdminCommand } from "../../src/client/mod.ts";
import { type LogEvent, type LogRow, toLogRow } from "../../src/logstore/mod.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode, type TestEnv, waitFor } from "../helpers/services.ts";
import { fanOutEvent, requestEvent } from "../helpers/log_events.ts";
import { withFoldedAndNot, withLogStore } from "../helpers/log_store.ts";

const LOGSTORE_TOML = `
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
`;

const count = async (env: TestEnv, where: string) =>
  Number(
    (await dbQuery<Array<{ n: number }>>(env, `SELECT COUNT(*) AS n FROM ms_logs WHERE ${where}`))[0]!.n,
  );

Deno.test("requests whose errors echo a client's long field names cannot fail a log batch", async () => {
  // One batch every 3 s, so the records of all these requests go out together, tried twice at most.
  const env = await createTestEnv({ extraToml: `${LOGSTORE_TOML}flush_ms = 3000\nmax_retries = 1\n` });
  const node = await startNode(env, "appServer", "logstore-longnames");
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  try {
    const ch = await conn.createConfirmChannel();
    const send = (body: unknown) =>
      ch.publish(env.config.amqp.exchange, "read.cus", Buffer.from(JSON.stringify(body)));
    // A field name of 30,000 backslashes: 60 KB of body, under max_body_bytes (64 KB), and echoed
    // by the VALIDATION error; JSON escapes it twice on its way to the store.
    const name = "\\".repeat(30_000);
    for (let id = 1; id <= 5; id++) send({ template: "cus", op: "read", key: { id } });
    for (let i = 0; i < 150; i++) send({ template: "cus", op: "read", where: { [name]: 1 } });
    await ch.waitForConfirms();
    let logstore: Record<string, number> = {};
    await waitFor(
      async () => {
        const [status] = await sendAdminCommand({
          amqp: env.config.amqp,
          command: "status",
          node: "logstore-longnames",
        });
        logstore = (status!.data as { logstore: Record<string, number> }).logstore;
        return logstore.failures! > 0 || logstore.written! >= 155;
      },
      30_000,
      "the batch to be written or to fail",
    );
    assert.equal(logstore.failures, 0, JSON.stringify(logstore));
    assert.equal(logstore.dropped, 0, JSON.stringify(logstore));
    assert.equal(await count(env, "node = 'logstore-longnames' AND kind = 'request'"), 155);
    const [longest] = await dbQuery<Array<{ doc: number; message: number }>>(
      env,
      `SELECT MAX(CHAR_LENGTH(doc)) AS doc, MAX(CHAR_LENGTH(message)) AS message
         FROM ms_logs WHERE code = 'VALIDATION'`,
    );
    assert.ok(Number(longest!.doc) <= 10_000 && Number(longest!.message) <= 1000, JSON.stringify(longest));
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("a log batch larger than one MariaDB statement is written in several", async (t) => {
  const env = await createTestEnv();
  try {
    await t.step("records of IPL runs with many steps (BEDS's own text): 20 MB in one batch", async () => {
      const rows: LogRow[] = Array.from({ length: 100 }, (_, i) =>
        toLogRow({
          kind: "ipl",
          event: `ipl${i}-n-b-1`,
          at: "2025-01-02T03:04:05.678Z",
          node: "n",
          role: "appServer",
          env: "test",
          ok: true,
          ms: 1,
          steps: Array.from({ length: 200 }, (_, s) => ({ step: `s${s}`, detail: "d".repeat(1000) })),
          configDigest: "0".repeat(64),
        }, `ipl${i}-n-b-1`));
      await withLogStore(env, (store) => store.write(rows));
      assert.equal(await count(env, "kind = 'ipl'"), 100);
    });
    await t.step("records of 150 requests echoing 60 KB field names", async () => {
      const message = `Unknown field "${"\\".repeat(30_000)}" for template "cus"`;
      const rows = Array.from(
        { length: 150 },
        (_, i) =>
          toLogRow(requestEvent({ event: `big${i}-n-b-1`, code: "VALIDATION", message }), `big${i}-n-b-1`),
      );
      await withLogStore(env, (store) => store.write(rows));
      assert.equal(await count(env, "code = 'VALIDATION'"), 150);
    });
  } finally {
    await env.cleanup();
  }
});

/** Fan-outs that succeeded, failed and were retried, on nodes whose names differ in case and accent. */
const EVENTS: LogEvent[] = [
  fanOutEvent("fa-n-b-1", [{ template: "prd" }, { template: "dsh" }, {
    code: "NOT_FOUND",
    message: "no row",
  }], {
    node: "node-ä",
  }),
  fanOutEvent("fb-n-b-1", [{}, {}, { code: "NOT_FOUND", message: "gone" }], {
    node: "node-a",
    code: "NOT_FOUND",
    message: "part 3",
  }),
  fanOutEvent("fc-n-b-1", [{}, { template: "dsh" }], {
    node: "Node-A",
    code: "DB_UNAVAILABLE",
    message: "down",
    action: "retry",
  }),
];

Deno.test("beds logs tail answers alike whether a fan-out's parts were folded or not", (t) =>
  withFoldedAndNot(LOGSTORE_TOML, EVENTS, async (envOf) => {
    assert.ok(
      await count(envOf(true), "TRUE") < await count(envOf(false), "TRUE"),
      "parts were folded",
    );
    const tail = async (env: TestEnv, args: string[]) => {
      const run = await cli(["logs", "tail", ...args, "--json", ...env.cliArgs]);
      assert.equal(run.code, 0, run.err);
      return run.out.split("\n").filter(Boolean).map((line) => JSON.parse(line).event as string).sort();
    };
    // MariaDB's collation ignores case, accents and trailing spaces: so must the parts it brings.
    for (
      const args of [
        ["--level", "info"],
        ["--level", "error"],
        ["--node", "NODE-A"],
        ["--node", "node-ä", "--level", "info"],
        ["--template", "DSH "],
      ]
    ) {
      await t.step(args.join(" "), async () => {
        const want = await tail(envOf(false), args);
        assert.ok(want.length > 0);
        assert.deepEqual(await tail(envOf(true), args), want);
      });
    }
  }));

Deno.test("beds logs tail refuses a filter longer than its column, saying so", async (t) => {
  const env = await createTestEnv({ extraToml: LOGSTORE_TOML });
  try {
    await withLogStore(
      env,
      (store) => store.write([toLogRow(requestEvent({ event: "w-n-b-1" }), "w-n-b-1")]),
    );
    for (const [option, width] of [["--template", 32], ["--node", 128], ["--code", 32]] as const) {
      await t.step(option, async () => {
        const long = await cli(["logs", "tail", option, "x".repeat(width + 1), ...env.cliArgs]);
        assert.equal(long.code, 2, long.err);
        assert.match(long.err, new RegExp(`Option ${option} must be at most ${width} characters`));
        // As long as the column, in characters (an emoji is two UTF-16 units): read, nothing found.
        const fits = await cli(["logs", "tail", option, "\u{1F600}".repeat(width), ...env.cliArgs]);
        assert.equal(fits.code, 0, fits.err);
        assert.equal(fits.out, "");
      });
    }
  } finally {
    await env.cleanup();
  }
});
