import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import mariadb from "mariadb";
import { sendAdminCommand } from "../../src/client/mod.ts";
import { cli, createTestEnv, ROOT, startNode, type TestEnv, waitFor } from "../helpers/services.ts";
import { expectError, expectOk } from "../helpers/replies.ts";
import { requestEvent } from "../helpers/log_events.ts";
import { batchTuple, toLogRow } from "../../src/logstore/mod.ts";

/** [logstore] on the test schema's MariaDB objects (lab/sql/005_logstore.sql). */
function logstoreToml(extra: string): string {
  return `
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
${extra}
`;
}

async function query<T>(env: TestEnv, sql: string, values: unknown[] = []): Promise<T> {
  const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  try {
    return await conn.query(sql, values) as T;
  } finally {
    await conn.end();
  }
}

Deno.test("a node records IPL, requests and chains in the MariaDB log store and flushes it on shutdown", async (t) => {
  // Nothing is written before shutdown unless 1000 records wait: the flush on shutdown writes them.
  const env = await createTestEnv({ extraToml: logstoreToml("flush_ms = 600000\nbatch_size = 1000") });
  let stopped = false;
  const node = await startNode(env, "appServer", "logstore-node");
  try {
    const client = await env.client();
    const ok = await client.request({ template: "prd", op: "read", key: { id: 1 } });
    expectOk(ok);
    const failed = await client.request({ template: "prd", op: "read", key: { id: 999999 } });
    expectError(failed, "NOT_FOUND");
    const joined = await client.request({
      template: "cus",
      op: "read",
      key: { id: 2 },
      event: { parent: ok.meta.event },
    });
    expectOk(joined);
    assert.ok(joined.meta.event.startsWith(`${ok.meta.event}.`));

    await t.step("records wait in the buffer while the node runs", async () => {
      const [row] = await query<Array<{ n: number }>>(env, "SELECT COUNT(*) AS n FROM ms_logs");
      assert.equal(Number(row!.n), 0);
      const [status] = await sendAdminCommand({
        amqp: env.config.amqp,
        command: "status",
        node: "logstore-node",
      });
      const logstore = (status!.data as { logstore: Record<string, unknown> }).logstore;
      assert.equal(logstore.store, "mariadb");
      assert.equal(logstore.dropped, 0);
      assert.ok(Number(logstore.buffered) >= 4, JSON.stringify(logstore));
      // The batches' own connection reports its health next to the counters.
      assert.deepEqual(logstore.connection, {
        healthy: true,
        detail: { master: { size: 1, alive: 1, inflight: 0 } },
      });
    });

    assert.equal(await node.stop(), 0);
    stopped = true;

    await t.step("shutdown flushed them: the IPL record", async () => {
      const result = await cli(["logs", "tail", "--kind", "ipl", "--json", ...env.cliArgs]);
      assert.equal(result.code, 0, result.err);
      const [ipl] = result.out.split("\n").map((l) => JSON.parse(l));
      assert.equal(ipl.node, "logstore-node");
      assert.equal(ipl.action, "ok");
      const steps = (ipl.doc.steps as Array<{ step: string }>).map((s) => s.step);
      assert.ok(steps.indexOf("templates_verify") < steps.indexOf("logstore"));
      assert.ok(steps.indexOf("logstore") < steps.indexOf("broker_pool"));
      assert.match(ipl.doc.configDigest, /^[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(ipl.doc).includes('"pass"'), "no secrets in the record");
    });

    await t.step("the failed request, always recorded, as an error", async () => {
      const result = await cli(["logs", "tail", "--level", "error", "--json", ...env.cliArgs]);
      assert.equal(result.code, 0, result.err);
      const rows = result.out.split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((r) => [r.event, r.code, r.template]), [[
        failed.meta.event,
        "NOT_FOUND",
        "prd",
      ]]);
    });

    await t.step("beds logs chain prints the chain as a tree", async () => {
      const result = await cli(["logs", "chain", joined.meta.event, ...env.cliArgs]);
      assert.equal(result.code, 0, result.err);
      const lines = result.out.split("\n");
      assert.equal(lines.length, 2, result.out);
      assert.match(lines[0]!, new RegExp(`^${ok.meta.event}  \\+0ms  read\\.prd`));
      assert.match(
        lines[1]!,
        new RegExp(`^└─ ${joined.meta.event.slice(ok.meta.event.length)}  \\+\\d+ms  read\\.cus`),
      );
    });

    await t.step("beds logs chain of an unknown id fails", async () => {
      const result = await cli(["logs", "chain", "nothing-here", ...env.cliArgs]);
      assert.equal(result.code, 1);
      assert.match(result.err, /no records/);
    });
  } finally {
    if (!stopped) await node.stop();
    await env.cleanup();
  }
});

Deno.test("a fan-out is one record with its parts folded in, and reads back as every part", async (t) => {
  for (const fold of [true, false]) {
    await t.step(`fold_parts = ${fold}`, async () => {
      const env = await createTestEnv({ extraToml: logstoreToml(`fold_parts = ${fold}\nflush_ms = 50`) });
      const node = await startNode(env, "appServer", `fold-${fold}`);
      try {
        const client = await env.client();
        const reply = await client.request({ template: "dsh", op: "read" });
        expectOk(reply);
        const parent = reply.meta.event;
        // Stored: the parent alone when folded, a record per part otherwise (one batch either way).
        const stored = () =>
          query<Array<{ event: string }>>(
            env,
            "SELECT event FROM ms_logs WHERE event = ? OR event LIKE CONCAT(?, '.%')",
            [parent, parent],
          );
        await waitFor(async () => (await stored()).length > 0, 10_000, "the fan-out's records");
        assert.equal((await stored()).length, fold ? 1 : 25);
        // Read back alike either way: the chain of a part is the whole fan-out.
        const chain = await cli(["logs", "chain", `${parent}.7`, ...env.cliArgs]);
        assert.equal(chain.code, 0, chain.err);
        const lines = chain.out.split("\n");
        assert.equal(lines.length, 25, chain.out);
        assert.match(lines[0]!, new RegExp(`^${parent}  \\+0ms  read\\.dsh`));
        // Every part but the last has a sibling after it.
        assert.ok(
          lines.slice(1).every((l, i) =>
            new RegExp(`^${i < 23 ? "├" : "└"}─ \\.\\d+ {2}\\+0ms {2}\\S+\\.\\w+ {2}on fold-`).test(l)
          ),
          chain.out,
        );
        const tail = async (...args: string[]) => {
          const run = await cli(["logs", "tail", ...args, "--json", ...env.cliArgs]);
          assert.equal(run.code, 0, run.err);
          return run.out.split("\n").filter(Boolean).map((l) => JSON.parse(l).event as string);
        };
        assert.deepEqual(await tail("--template", "dsh"), [parent]);
        // The store's collation ignores case, and so does the check of the parts it brings.
        assert.deepEqual(await tail("--template", "DSH"), [parent]);
        const ofNode = await tail("--node", `FOLD-${fold}`.toUpperCase(), "--limit", "100");
        assert.equal(ofNode.filter((e) => e === parent || e.startsWith(`${parent}.`)).length, 25);
        // --limit counts the records printed, folded parts among them.
        assert.equal((await tail("--node", `fold-${fold}`, "--limit", "3")).length, 3);
      } finally {
        await node.stop();
        await env.cleanup();
      }
    });
  }
});

Deno.test("a failing log store drops and counts events without affecting requests", async () => {
  const env = await createTestEnv({ extraToml: logstoreToml("flush_ms = 20\nmax_retries = 0") });
  const node = await startNode(env, "appServer", "logstore-broken");
  try {
    await query(env, "DROP PROCEDURE sp_mst_log_rows");
    const client = await env.client();
    for (let id = 1; id <= 3; id++) {
      expectOk(await client.request({ template: "prd", op: "read", key: { id } }));
    }
    let logstore: Record<string, number> = {};
    await waitFor(
      async () => {
        const [status] = await sendAdminCommand({
          amqp: env.config.amqp,
          command: "status",
          node: "logstore-broken",
        });
        logstore = (status!.data as { logstore: Record<string, number> }).logstore;
        return logstore.dropped! >= 3;
      },
      10_000,
      "dropped events to be counted",
    );
    assert.ok(logstore.failures! >= 1);
    expectOk(await client.request({ template: "prd", op: "read", key: { id: 4 } }));
  } finally {
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("a log batch that cannot finish does not hold up requests: it has a connection of its own", async () => {
  // One shared connection, so a batch pipelined on it would stall every request behind it.
  const env = await createTestEnv({
    extraToml: logstoreToml("flush_ms = 20"),
    master: { connections: 1 },
  });
  const node = await startNode(env, "appServer", "logstore-stuck");
  const locker = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  let locked = false;
  try {
    const client = await env.client();
    expectOk(await client.request({ template: "cus", op: "read", key: { id: 1 } }));
    // The log store's INSERT now waits for the table lock: its batch is in flight and stuck.
    await locker.query("LOCK TABLES ms_logs WRITE");
    locked = true;
    expectOk(await client.request({ template: "cus", op: "read", key: { id: 2 } }));
    await waitFor(
      async () =>
        (await query<unknown[]>(
          env,
          `SELECT ID FROM information_schema.PROCESSLIST
            WHERE STATE LIKE 'Waiting for table%' AND INFO LIKE '%ms_logs%'`,
        )).length > 0,
      10_000,
      "a log batch to wait for the lock",
    );
    for (let id = 1; id <= 20; id++) {
      const reply = await client.request({ template: "cus", op: "read", key: { id: 1 + id % 3 } }, {
        timeoutMs: 5000,
      });
      expectOk(reply);
    }
    await locker.query("UNLOCK TABLES");
    locked = false;
    // Released, the stuck batch and the ones after it are written.
    await waitFor(
      async () =>
        (await query<{ n: number }[]>(
          env,
          "SELECT COUNT(*) AS n FROM ms_logs WHERE node = 'logstore-stuck' AND kind = 'request'",
        ))[0]!.n >= 22,
      10_000,
      "the held-up records to be written",
    );
  } finally {
    if (locked) await locker.query("UNLOCK TABLES");
    await locker.end();
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("sp_mst_log_rows (BEDS's positional records) stores what sp_mst_log_batch stores by name", async (t) => {
  const env = await createTestEnv();
  try {
    const events = [
      requestEvent({ event: "pos0001-n-b-0001", code: "NOT_FOUND", message: 'No "prd" matches', rows: 0 }),
      requestEvent({ event: "pos0001-n-b-0001.1", parent: "pos0001-n-b-0001", call: "stock", user: "ann" }),
      requestEvent({
        event: "pos0001-n-b-0002",
        broker: undefined as never,
        template: undefined,
        op: undefined,
      }),
    ];
    const rows = events.map((e) => toLogRow(e, e.event));
    const named = rows.map((row) => {
      const { root: _root, ...rest } = row;
      return { ...rest, event: `named-${row.event}`, parent: row.parent && `named-${row.parent}` };
    });
    const count = async () =>
      Number((await query<Array<{ n: bigint }>>(env, "SELECT COUNT(*) AS n FROM ms_logs"))[0]!.n);

    await t.step("both forms store the same columns", async () => {
      await query(env, "CALL sp_mst_log_rows(?)", [JSON.stringify(rows.map(batchTuple))]);
      await query(env, "CALL sp_mst_log_batch(?)", [JSON.stringify(named)]);
      const stored = await query<Array<Record<string, unknown>>>(
        env,
        "SELECT event, parent, kind, level, at, node, broker, template, op, code, action, attempt, ms, nrows, " +
          "message, doc FROM v_ms_logs ORDER BY id",
      );
      assert.equal(stored.length, 6);
      const positional = stored.slice(0, 3);
      const byName = stored.slice(3).map((r) => ({
        ...r,
        event: String(r.event).replace("named-", ""),
        parent: r.parent === null ? null : String(r.parent).replace("named-", ""),
      }));
      assert.deepEqual(byName, positional);
      assert.deepEqual(positional.map((r) => [r.event, r.parent, r.code, r.template, r.op, r.nrows, r.doc]), [
        ["pos0001-n-b-0001", null, "NOT_FOUND", "prd", "read", 0, rows[0]!.doc],
        ["pos0001-n-b-0001.1", "pos0001-n-b-0001", null, "prd", "read:stock", 1, rows[1]!.doc],
        ["pos0001-n-b-0002", null, null, null, null, 1, rows[2]!.doc],
      ]);
      assert.deepEqual(JSON.parse(String(positional[1]!.doc)), { user: "ann", call: "stock" });
    });

    await t.step(
      "a batch with anything but positional records fails whole, storing nothing; a repeated one is skipped",
      async () => {
        const before = await count();
        const fresh = rows.map((row) => batchTuple({ ...row, event: `bad-${row.event}` }));
        const { root: _root, ...object } = rows[0]!;
        for (
          const bad of [
            [...fresh, object], // one record by name among positional ones
            [object, ...fresh],
            [...fresh, fresh[0]!.slice(1)], // a value short
            [[null, ...fresh[0]!.slice(1)]], // no event id
            "not json",
            { records: fresh },
          ]
        ) {
          await assert.rejects(
            query(env, "CALL sp_mst_log_rows(?)", [typeof bad === "string" ? bad : JSON.stringify(bad)]),
            /p_rows must be a JSON array of records|cannot be null/,
          );
        }
        assert.equal(await count(), before);
        await query(env, "CALL sp_mst_log_rows(?)", ["[]"]);
        assert.equal(await count(), before);
        // The refusals rest on strict mode, which the routine keeps from its creation.
        const [routine] = await query<Array<{ sql_mode: string }>>(
          env,
          "SELECT sql_mode FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = 'sp_mst_log_rows'",
          [env.schema],
        );
        assert.match(routine!.sql_mode, /STRICT_ALL_TABLES/);
        // A retried batch (the same event ids again) stores nothing twice.
        await query(env, "CALL sp_mst_log_rows(?)", [JSON.stringify(rows.map(batchTuple))]);
        assert.equal(await count(), before);
      },
    );
  } finally {
    await env.cleanup();
  }
});

Deno.test("a log store whose schema predates sp_mst_log_rows is refused at start-up, not written to", async () => {
  const env = await createTestEnv({ extraToml: logstoreToml("") });
  const node = await (async () => {
    await query(env, "DROP PROCEDURE sp_mst_log_rows");
    // Outside prod a log store that fails its check is a warning; in prod the node would not start.
    return await startNode(env, "appServer", "logstore-old-schema");
  })();
  try {
    const [status] = await sendAdminCommand({
      amqp: env.config.amqp,
      command: "status",
      node: "logstore-old-schema",
    });
    assert.deepEqual((status!.data as { logstore: unknown }).logstore, { store: "off" });
    expectOk(await (await env.client()).request({ template: "prd", op: "read", key: { id: 1 } }));
    assert.equal(
      Number((await query<Array<{ n: bigint }>>(env, "SELECT COUNT(*) AS n FROM ms_logs"))[0]!.n),
      0,
    );
  } finally {
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("what a client chose cannot fail a log batch: odd headers and text are stored with the rest", async () => {
  const env = await createTestEnv({ extraToml: logstoreToml("flush_ms = 50\nmax_retries = 0") });
  const node = await startNode(env, "appServer", "logstore-hostile");
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  try {
    const ch = await conn.createConfirmChannel();
    const send = (body: unknown, headers: Record<string, unknown> = {}) =>
      ch.publish(env.config.amqp.exchange, "read.cus", Buffer.from(JSON.stringify(body)), { headers });
    // An attempt beyond the record's 16 bits, and a first-attempt id far beyond the stored 600.
    send({ template: "cus", op: "read", key: { id: 1 } }, { "x-beds-attempt": 70_000 });
    send({ template: "cus", op: "read", key: { id: 2 } }, { "x-beds-event": `e${"x".repeat(700)}` });
    // A lone surrogate in a field name the error echoes, and an echoed field name whose message is
    // clipped right inside an emoji.
    send({ template: "cus", op: "read", where: { "a\ud800b": 1 } });
    send({ template: "cus", op: "read", where: { [`${"a".repeat(983)}\u{1F600}`]: 1 } });
    // And one plain read, in the same batch.
    send({ template: "cus", op: "read", key: { id: 3 } });
    await ch.waitForConfirms();
    const records = async () =>
      await query<Array<{ attempt: number; template: string | null; code: string | null; event: string }>>(
        env,
        "SELECT attempt, template, code, event FROM ms_logs WHERE node = 'logstore-hostile' AND kind = 'request'",
      );
    await waitFor(async () => (await records()).length >= 5, 10_000, "all five records");
    const stored = await records();
    assert.equal(stored.length, 5);
    assert.ok(stored.every((r) => r.attempt === 1), JSON.stringify(stored.map((r) => r.attempt)));
    assert.ok(stored.every((r) => r.event.length < 100), "the long first-attempt id was not taken");
    const messages = await query<Array<{ message: string | null }>>(
      env,
      "SELECT message FROM ms_logs WHERE node = 'logstore-hostile' AND code = 'VALIDATION'",
    );
    assert.ok(
      messages.some((m) => m.message?.includes('"a\ufffdb"')),
      JSON.stringify(messages).slice(0, 300),
    );
    assert.ok(messages.some((m) => m.message?.endsWith("a…")), "clipped before the emoji, not inside it");
    assert.equal(stored.filter((r) => r.code === "VALIDATION").length, 2);
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
    await node.stop();
    await env.cleanup();
  }
});

Deno.test("a start that fails after the log store opened leaves its IPL record there, failed", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const env = await createTestEnv({
    extraToml: logstoreToml("flush_ms = 50") + "\n[nodes.appServer]\ngateway = true\n",
    gateway: { port: (taken.addr as Deno.NetAddr).port },
  });
  try {
    const run = await cli([
      "run",
      "--node",
      "appServer",
      "--instance",
      `ipl-failed-${env.id}`,
      ...env.cliArgs,
    ]);
    assert.equal(run.code, 20, run.err); // the gateway's exit code: its port is taken
    const rows = await query<Array<{ level: string; action: string; message: string | null }>>(
      env,
      "SELECT level, action, message FROM ms_logs WHERE kind = 'ipl' AND node = ?",
      [`ipl-failed-${env.id}`],
    );
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.level, "error");
    assert.equal(rows[0]!.action, "failed");
  } finally {
    taken.close();
    await env.cleanup();
  }
});

Deno.test("retention: sp_mst_purge and sp_adm_purge delete what is older than the cutoff, at most as many as asked", async () => {
  const env = await createTestEnv();
  try {
    const day = (d: number) => `2025-01-${String(d).padStart(2, "0")}T00:00:00.000Z`;
    const events = Array.from(
      { length: 25 },
      (_, i) =>
        requestEvent({ event: `ret${String(i).padStart(4, "0")}-n-b-0001`, at: day(i < 20 ? 1 : 10) }),
    );
    await query(env, "CALL sp_mst_log_rows(?)", [
      JSON.stringify(events.map((e) => batchTuple(toLogRow(e, e.event)))),
    ]);
    const purge = async (max: number) =>
      Number(
        (await query<Array<Array<{ deleted: bigint }>>>(env, "CALL sp_mst_purge(?, ?)", [
          "2025-01-05 00:00:00",
          max,
        ]))[0]![0]!.deleted,
      );
    const left = async () =>
      Number((await query<Array<{ n: bigint }>>(env, "SELECT COUNT(*) AS n FROM ms_logs"))[0]!.n);
    assert.equal(await purge(15), 15, "at most as many as asked");
    assert.equal(await left(), 10);
    assert.equal(await purge(1000), 5, "the rest of the old ones");
    assert.equal(await left(), 5, "the recent ones stay");

    await query(
      env,
      "INSERT INTO ms_syslog (line_id, at, node, level, msg, line) VALUES (?, ?, 'n', 'warn', 'm', '{}'), (?, ?, 'n', 'warn', 'm', '{}')",
      [
        "old-1",
        "2025-01-01 00:00:00",
        "new-1",
        "2025-01-10 00:00:00",
      ],
    );
    const purged = await query<Array<Array<{ lines_deleted: bigint; nodes_forgotten: bigint }>>>(
      env,
      "CALL sp_adm_purge(?, ?)",
      ["2025-01-05 00:00:00", 1000],
    );
    assert.equal(Number(purged[0]![0]!.lines_deleted), 1);
    assert.equal(
      Number((await query<Array<{ n: bigint }>>(env, "SELECT COUNT(*) AS n FROM ms_syslog"))[0]!.n),
      1,
    );
  } finally {
    await env.cleanup();
  }
});

Deno.test("sp_grf_minutes counts folded parts the readers read, whatever the parent's outcome, and no junk", async () => {
  const env = await createTestEnv();
  try {
    const at = new Date(Date.now() - 60_000).toISOString();
    const row = toLogRow(
      requestEvent({
        event: "grf00001-n-b-0001",
        template: "dsh",
        action: "dead_letter",
        code: "DB_UNAVAILABLE",
        at,
      }),
      "grf00001-n-b-0001",
    );
    // One part the readers unfold, and entries they skip.
    row.parts = [["1", "prd", "read", null, 2, 1], ["x", "cus", "read", null, "abc", 1], "junk", {
      x: 1,
    }] as never;
    await query(env, "CALL sp_mst_log_rows(?)", [JSON.stringify([batchTuple(row)])]);
    const [minutes] = await query<Array<Array<Record<string, unknown>>>>(
      env,
      "CALL sp_grf_minutes(NULL, NULL, NULL, NULL)",
    );
    assert.deepEqual(
      minutes!.map((m) => [m.template, m.op, m.outcome, Number(m.requests), Number(m.mean_ms)]),
      [["dsh", "read", "DB_UNAVAILABLE", 1, 1.5], ["prd", "read", "OK", 1, 2]],
    );
  } finally {
    await env.cleanup();
  }
});

Deno.test("a fan-out that failed for a required part keeps the records of its parts", async () => {
  const env = await createTestEnv({ extraToml: logstoreToml("flush_ms = 50") });
  const node = await startNode(env, "appServer", `failed-rel-${env.id}`);
  try {
    const client = await env.client();
    // cov's part "customer" finds no customer 999999; the parts that need it never start.
    const reply = await client.request({ template: "cov", op: "read", key: { id: 999999 } });
    expectError(reply, "NOT_FOUND");
    const parent = reply.meta.event;
    await waitFor(
      async () =>
        (await query<unknown[]>(env, "SELECT event FROM ms_logs WHERE event = ?", [parent])).length > 0,
      10_000,
      "the fan-out's record",
    );
    const chain = await cli(["logs", "chain", parent, "--json", ...env.cliArgs]);
    assert.equal(chain.code, 0, chain.err);
    const records = chain.out.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    const failed = records.filter((r) => r.event !== parent && r.code === "NOT_FOUND");
    assert.deepEqual(failed.filter((r) => r.template === "cus").length, 1, chain.out);
    // The optional "latest" reads the order "orders" found: when "orders" ended before "customer"
    // failed it has started, and fails for the order there is none of. It keeps its record too.
    assert.ok(
      failed.every((r) => r.template === "cus" || (r.template === "ord" && /has no value/.test(r.message))),
      chain.out,
    );
    // The parts that ran alongside it are there too (folded into the parent's record, unfolded here).
    assert.ok(records.some((r) => r.event !== parent && r.template === "ord" && r.code === null), chain.out);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
