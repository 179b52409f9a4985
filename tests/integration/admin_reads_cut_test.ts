/**
 * Reads that hold less than there is say so, or lose what matters least:
 * `beds logs chain` of a chain past CHAIN_LIMIT records (from the MariaDB log
 * store and through the admin role's `call.mst chain`) says it was cut and
 * still prints the event asked for with the records it extends; read.grf
 * answers the newest minutes first, so a read's limit cuts the oldest; and
 * read.nst pages past the first max_read_limit nodes.
 */
import assert from "node:assert/strict";
import mariadb, { type Connection } from "mariadb";
import { adminExchangeName } from "../../src/amqp/mod.ts";
import { BedsClient } from "../../src/client/mod.ts";
import { batchTuple, CHAIN_LIMIT, toLogRow } from "../../src/logstore/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { cli, createTestEnv, ROOT, startNode, type TestEnv } from "../helpers/services.ts";
import { expectOk } from "../helpers/replies.ts";
import { requestEvent } from "../helpers/log_events.ts";

type Row = Record<string, unknown>;

const LOGSTORE = `
[logstore]
store = "mariadb"
database = "logs"
templates_dir = "${ROOT}/templates/logstore"
`;

async function withDb<T>(env: TestEnv, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}

/**
 * Stores a chain through sp_mst_log_rows: `root`, then `root.1` … `root.n` a millisecond apart,
 * then the `extra` ids (each extending one of them), later than all.
 */
async function storeChain(env: TestEnv, root: string, n: number, extra: string[] = []): Promise<void> {
  const start = Date.UTC(2026, 0, 5);
  const at = (i: number) => new Date(start + i).toISOString();
  const ids = [root, ...Array.from({ length: n }, (_, i) => `${root}.${i + 1}`)];
  const events = [
    ...ids.map((event, i) => ({ event, at: at(i) })),
    ...extra.map((event, i) => ({ event, at: at(n + 100 + i) })),
  ];
  const tuples = events.map(({ event, at }) => batchTuple(toLogRow(requestEvent({ event, at }), event)));
  for (let i = 0; i < tuples.length; i += 5000) {
    await withDb(
      env,
      (conn) => conn.query("CALL sp_mst_log_rows(?)", [JSON.stringify(tuples.slice(i, i + 5000))]),
    );
  }
}

/** The records `beds logs chain ID --json` printed, and what it said on stderr. */
async function chainOf(id: string, args: string[]): Promise<{ code: number; events: string[]; err: string }> {
  const run = await cli(["logs", "chain", id, "--json", ...args]);
  const events = run.out.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as Row).event as string);
  return { code: run.code, events, err: run.err };
}

const cutSaid = new RegExp(
  `has more than ${CHAIN_LIMIT.toLocaleString("en")} records: printed are the oldest`,
);

/** What a cut chain of `root` printed for `wanted`, past the oldest CHAIN_LIMIT records. */
function assertCut(run: { code: number; events: string[]; err: string }, root: string, wanted: string) {
  assert.equal(run.code, 0, run.err);
  assert.match(run.err, cutSaid);
  assert.ok(run.err.includes(wanted), run.err);
  // The oldest CHAIN_LIMIT (the root and its first CHAIN_LIMIT - 1 children), then the event asked for
  // and the record it extends, none of the others.
  assert.equal(run.events.length, CHAIN_LIMIT + 2);
  assert.equal(run.events[0], root);
  assert.equal(run.events[CHAIN_LIMIT - 1], `${root}.${CHAIN_LIMIT - 1}`);
  assert.deepEqual(run.events.slice(CHAIN_LIMIT), [wanted.slice(0, wanted.lastIndexOf(".")), wanted]);
}

Deno.test("beds logs chain of a chain past its limit says it was cut and prints the event asked for", async (t) => {
  const env = await createTestEnv({ extraToml: LOGSTORE });
  try {
    const root = `cut${env.id}-n-b-0001`;
    const wanted = `${root}.${CHAIN_LIMIT + 5}.r2`;
    await storeChain(env, root, CHAIN_LIMIT + 10, [wanted]);

    await t.step("from the MariaDB log store", async () => {
      assertCut(await chainOf(wanted, env.cliArgs), root, wanted);
    });

    await t.step("the tree ends with the event asked for; the warning follows it", async () => {
      const run = await cli(["logs", "chain", wanted, ...env.cliArgs]);
      assert.equal(run.code, 0, run.err);
      const lines = run.out.split("\n");
      assert.match(lines.at(-2)!, new RegExp(`\\.${CHAIN_LIMIT + 5}  `));
      assert.match(lines.at(-1)!, /^ {3}└─ \.r2 {2}\+\d+ms {2}read\.prd/);
      assert.match(run.err, cutSaid);
    });

    await t.step("a chain of exactly the limit is whole, and says nothing", async () => {
      const whole = `whole${env.id}-n-b-0001`;
      await storeChain(env, whole, CHAIN_LIMIT - 1);
      const run = await chainOf(whole, env.cliArgs);
      assert.equal(run.code, 0, run.err);
      assert.equal(run.err, "");
      assert.equal(run.events.length, CHAIN_LIMIT);
      assert.equal(run.events.at(-1), `${whole}.${CHAIN_LIMIT - 1}`);
    });
  } finally {
    await env.cleanup();
  }
});

const rows = (reply: Reply): Row[] => expectOk<Row[]>(reply);

Deno.test("the admin role's reads: chains through call.mst, grf newest minute first, nst past max_read_limit", async (t) => {
  const env = await createTestEnv({ extraToml: LOGSTORE });
  // `beds logs` of a node whose log store is the admin role's.
  const viaAdmin = await Deno.makeTempDir({ prefix: "beds_cfg_" });
  await Deno.copyFile(`${env.configDir}/beds.toml`, `${viaAdmin}/beds.toml`);
  await Deno.writeTextFile(
    `${viaAdmin}/env_test.toml`,
    (await Deno.readTextFile(`${env.configDir}/env_test.toml`)).replace(
      'store = "mariadb"',
      'store = "admin"',
    ),
  );
  const admin = await startNode(env, "admin", `adm-${env.id}`);
  const ops = await BedsClient.connect({
    amqp: env.config.amqp,
    exchange: adminExchangeName(env.config.amqp.exchange),
    timeoutMs: 20_000,
  });
  try {
    await t.step(
      "beds logs chain through the admin role says it was cut and prints the event asked for",
      async () => {
        const root = `adm${env.id}-n-b-0001`;
        const wanted = `${root}.${CHAIN_LIMIT + 3}.r2`;
        await storeChain(env, root, CHAIN_LIMIT + 5, [wanted]);
        assertCut(await chainOf(wanted, ["--config", viaAdmin, "--env", "test"]), root, wanted);
      },
    );

    // 40 minutes of the last hour, each with an OK, a NOT_FOUND and a TIMEOUT read: 120 rows.
    const minute = 60_000;
    const now = Math.floor(Date.now() / minute) * minute;
    const template = "gq";
    const minutes = Array.from(
      { length: 40 },
      (_, i) => new Date(now - (i + 1) * minute + 1000).toISOString(),
    );
    await withDb(env, (conn) =>
      conn.query("CALL sp_mst_log_rows(?)", [
        JSON.stringify(minutes.flatMap((at, i) =>
          [undefined, "NOT_FOUND", "TIMEOUT"].map((code, j) => {
            const event = `grf${env.id}${i}x${j}-n-b-0001`;
            return batchTuple(toLogRow(requestEvent({ event, at, template, code }), event));
          })
        )),
      ]));
    const label = (at: string) => `${at.slice(0, 16)}:00Z`;
    const newest = label(minutes[0]!);
    const oldest = label(minutes.at(-1)!);

    await t.step("read.grf answers the newest minute first: a read's limit cuts the oldest", async () => {
      const cut = rows(await ops.request({ template: "grf", op: "read", where: { template } }));
      assert.equal(cut.length, 100, "the default read limit");
      assert.equal(cut[0]!.minute, newest);
      assert.ok(!cut.some((r) => r.minute === oldest), "the oldest minutes are the ones left out");
      const order = cut.map((r) => String(r.minute));
      assert.deepEqual(order, [...order].sort().reverse());
    });

    await t.step("read.grf with a limit answers the whole hour, and pages with offset", async () => {
      const all = rows(await ops.request({ template: "grf", op: "read", where: { template }, limit: 1000 }));
      assert.equal(all.length, 120);
      assert.equal(new Set(all.map((r) => r.minute)).size, 40);
      assert.equal(all.at(-1)!.minute, oldest);
      const until = new Date(now).toISOString();
      const page = rows(
        await ops.request({
          template: "grf",
          op: "read",
          where: { template, until },
          limit: 100,
          offset: 100,
        }),
      );
      assert.deepEqual(page, all.slice(100));
    });

    await t.step("read.nst answers every node, past max_read_limit with offset, newest first", async () => {
      const role = `many${env.id}`.slice(0, 64);
      const count = 1005;
      await withDb(env, async (conn) => {
        const base = Date.now() - 60_000;
        await Promise.all(Array.from({ length: count }, (_, i) => {
          const at = new Date(base + i * 10).toISOString().replace("T", " ").replace("Z", "");
          return conn.query("CALL sp_nst_report(?, ?, '1', ?, ?, 0, 0, 0, 0, NULL, '{}')", [
            `node-${env.id}-${i}`,
            role,
            at,
            at,
          ]);
        }));
      });
      const first = rows(await ops.request({ template: "nst", op: "read", where: { role }, limit: 1000 }));
      const rest = rows(
        await ops.request({ template: "nst", op: "read", where: { role }, limit: 1000, offset: 1000 }),
      );
      assert.equal(first.length, 1000);
      assert.equal(rest.length, count - 1000, "the nodes past the first 1000 are read too");
      const nodes = [...first, ...rest].map((r) => r.node);
      assert.equal(new Set(nodes).size, count);
      assert.equal(nodes[0], `node-${env.id}-${count - 1}`, "the newest report first");
      assert.equal(nodes.at(-1), `node-${env.id}-0`);
    });
  } finally {
    await ops.close();
    assert.equal(await admin.stop(), 0);
    await env.cleanup();
    await Deno.remove(viaAdmin, { recursive: true });
  }
});
