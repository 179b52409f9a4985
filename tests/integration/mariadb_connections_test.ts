/**
 * The node's pipelined MariaDB connections against the real server: a
 * statement that never answers times out (a partition too), a killed
 * statement does not leave its session behind, a transaction a procedure
 * leaves open is committed, a JSON column JavaScript cannot parse arrives as its text
 * instead of ending the process, a BIGINT past 2^53 arrives exact, and so do a JSON
 * column's numbers and a FLOAT (its shortest decimal).
 */
import assert from "node:assert/strict";
import { createMariadbAdapter, type TransactionScope } from "../../src/adapters/mod.ts";
import { createConnectionSet } from "../../src/adapters/mariadb/connections.ts";
import pino from "pino";
import { loadTemplates, recTemplates } from "../../src/templates/mod.ts";
import { BedsError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { cli, createTestEnv, dbQuery, type TestEnv, waitFor } from "../helpers/services.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";

function connectionSet(env: TestEnv, settings: { query_timeout_ms?: number; connections?: number } = {}) {
  const master = env.config.databases.mariadb!.master;
  return createConnectionSet({
    name: "master",
    server: { ...master, connections: 1, ...settings },
    logger: silentLogger(),
  });
}

const sessionOpen = async (env: TestEnv, id: number) =>
  (await dbQuery<Array<{ n: number }>>(
    env,
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?",
    [
      id,
    ],
  ))[0]!.n > 0;

const unavailable = (message: RegExp) => (error: unknown) =>
  error instanceof BedsError && error.code === "DB_UNAVAILABLE" && message.test(error.message);

Deno.test("MariaDB connections: timeouts, killed statements, open transactions, JSON, BIGINT and FLOAT columns", async (t) => {
  const env = await createTestEnv({ emptySchema: true });
  const set = connectionSet(env, { query_timeout_ms: 300 });
  await set.open();
  const sessionId = async () =>
    (await set.query<Array<{ id: number }>>("SELECT CONNECTION_ID() AS id", []))[0]!.id;
  const reopened = () =>
    waitFor(() => Promise.resolve(set.health().alive === 1), 10_000, "the connection to reopen");
  try {
    await t.step(
      "a statement with no answer within query_timeout_ms fails, and its session is closed",
      async () => {
        const id = await sessionId();
        const started = performance.now();
        await assert.rejects(
          set.query("SELECT SLEEP(20)", []),
          unavailable(/No answer from MariaDB within 300 ms/),
        );
        assert.ok(performance.now() - started < 5_000);
        await waitFor(async () => !(await sessionOpen(env, id)), 5_000, "the timed-out session to close");
        await reopened();
        assert.notEqual(await sessionId(), id);
      },
    );

    await t.step(
      "a statement cut off from the server fails within query_timeout_ms all the same",
      async () => {
        const master = env.config.databases.mariadb!.master;
        const proxy = startSlowProxy({ target: master.port });
        const partitioned = createConnectionSet({
          name: "master",
          server: { ...master, port: proxy.port, connections: 1, query_timeout_ms: 300 },
          logger: silentLogger(),
        });
        await partitioned.open();
        try {
          proxy.freeze();
          const started = performance.now();
          await assert.rejects(
            partitioned.query("SELECT 1", []),
            unavailable(/No answer from MariaDB within 300 ms/),
          );
          assert.ok(performance.now() - started < 5_000);
          assert.equal(partitioned.health().inflight, 0, "nothing is left counted in flight");
          proxy.thaw();
        } finally {
          proxy.close();
          await partitioned.close();
        }
      },
    );

    await t.step("close() settles what is still in flight", async () => {
      const closing = connectionSet(env);
      await closing.open();
      const inFlight = closing.query("SELECT SLEEP(0.5)", []).then(() => "answered", () => "failed");
      await closing.close();
      const outcome = await Promise.race([
        inFlight,
        new Promise((resolve) => setTimeout(() => resolve("pending"), 3_000)),
      ]);
      assert.notEqual(outcome, "pending");
      assert.equal(closing.health().inflight, 0);
    });

    await t.step("a killed statement fails, and its session does not stay open", async () => {
      const id = await sessionId();
      const sleeping = set.query("SELECT SLEEP(0.25) AS s, SLEEP(20)", []);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await dbQuery(env, `KILL QUERY ${id}`);
      await assert.rejects(sleeping, BedsError);
      await waitFor(
        async () => !(await sessionOpen(env, id)),
        5_000,
        "the killed statement's session to close",
      );
      await reopened();
    });

    await t.step("a transaction a procedure leaves open is committed, as its answer said", async () => {
      await dbQuery(env, "CREATE TABLE tx_left (id INT PRIMARY KEY) ENGINE=InnoDB");
      await dbQuery(
        env,
        "CREATE PROCEDURE sp_tx_left(IN p_id INT) BEGIN START TRANSACTION; INSERT INTO tx_left VALUES (p_id); END",
      );
      await set.query(`CALL \`${env.schema}\`.sp_tx_left(?)`, [1]);
      // The write answered ok is there for every session, and the connection is out of the transaction.
      await waitFor(
        async () => (await dbQuery<unknown[]>(env, "SELECT id FROM tx_left")).length === 1,
        5_000,
        "the write to be committed",
      );
      const [state] = await set.query<Array<{ open: number }>>("SELECT @@in_transaction AS open", []);
      assert.equal(state!.open, 0);
    });

    await t.step(
      "such a write is answered only once committed: a commit that cannot run fails it",
      async () => {
        await reopened();
        // The COMMIT waits behind a statement that times out: the connection closes, the server rolls back.
        const [left, slow] = await Promise.allSettled([
          set.query(`CALL \`${env.schema}\`.sp_tx_left(?)`, [5]),
          set.query("SELECT SLEEP(2)", []),
        ]);
        assert.equal(slow.status, "rejected");
        assert.equal(left.status, "rejected", "not answered ok before its commit");
        assert.ok(unavailable(/./)((left as PromiseRejectedResult).reason));
        await reopened();
        assert.deepEqual(await dbQuery<unknown[]>(env, "SELECT id FROM tx_left WHERE id = 5"), []);
        assert.equal(set.health().inflight, 0);
      },
    );

    await t.step(
      "JSON columns arrive parsed, and as their text where JavaScript cannot parse them",
      async () => {
        await dbQuery(env, "CREATE TABLE docs (id INT PRIMARY KEY, doc JSON)");
        await dbQuery(
          env,
          String.raw`INSERT INTO docs VALUES (1, '{"a":[1,2]}'), (2, '{"path":"C:\\data\\x"}'), (3, '1.')`,
        );
        await dbQuery(env, "CREATE PROCEDURE sp_docs() SELECT id, doc FROM docs ORDER BY id");
        const expected = [{ id: 1, doc: { a: [1, 2] } }, { id: 2, doc: String.raw`{"path":"C:\data\x"}` }, {
          id: 3,
          doc: "1.",
        }];
        const rows = await set.query<unknown[]>(`SELECT id, doc FROM \`${env.schema}\`.docs ORDER BY id`, []);
        assert.deepEqual([...rows], expected);
        const [sets] = await set.query<[unknown[]]>(`CALL \`${env.schema}\`.sp_docs()`, []);
        assert.deepEqual([...sets], expected);
        assert.equal(set.health().alive, 1);
      },
    );
    await t.step(
      "BIGINT columns arrive exact: a number within ±(2^53−1), else the string of their digits",
      async () => {
        await dbQuery(env, "CREATE TABLE bigs (id BIGINT PRIMARY KEY, u BIGINT UNSIGNED)");
        await dbQuery(
          env,
          "INSERT INTO bigs VALUES (9007199254740991, 0), (9007199254740993, 18446744073709551615), " +
            "(-9223372036854775808, NULL)",
        );
        await dbQuery(env, "CREATE PROCEDURE sp_bigs() SELECT id, u FROM bigs ORDER BY id");
        const expected = [
          { id: "-9223372036854775808", u: null },
          { id: 9007199254740991, u: 0 },
          { id: "9007199254740993", u: "18446744073709551615" },
        ];
        const rows = await set.query<unknown[]>(`SELECT id, u FROM \`${env.schema}\`.bigs ORDER BY id`, []);
        assert.deepEqual([...rows], expected);
        const [sets] = await set.query<[unknown[]]>(`CALL \`${env.schema}\`.sp_bigs()`, []);
        assert.deepEqual([...sets], expected);
        // A key past 2^53 bound as its digits matches its own row only.
        const [row] = await set.query<unknown[]>(
          `SELECT id FROM \`${env.schema}\`.bigs WHERE id = CAST(? AS SIGNED)`,
          ["9007199254740993"],
        );
        assert.deepEqual(row, { id: "9007199254740993" });
      },
    );
    await t.step(
      "JSON numbers arrive exact, and FLOATs as their shortest decimal, by query, CALL and adapter read",
      async () => {
        await dbQuery(env, "CREATE TABLE nums (id INT PRIMARY KEY, doc JSON, f FLOAT, d DOUBLE)");
        await dbQuery(
          env,
          "INSERT INTO nums VALUES (1, JSON_OBJECT('id', 9007199254740993, 'x', 1234567890.123456789012, " +
            "'n', JSON_ARRAY(1, 2.5, -3, 0.1)), 1.1, 1.1), (2, '9007199254740993', 16777217, 0.1), " +
            "(3, '[1e400, 1.0]', NULL, NULL)",
        );
        await dbQuery(env, "CREATE VIEW v_nums AS SELECT id, doc, f, d FROM nums");
        await dbQuery(env, "CREATE PROCEDURE sp_nums() SELECT id, doc, f, d FROM nums ORDER BY id");
        // What the reply carries: MariaDB's digits, not a double's, and 1.1 for FLOAT 1.1.
        const expected =
          '[{"id":1,"doc":{"id":9007199254740993,"x":1234567890.123456789012,"n":[1,2.5,-3,0.1]},' +
          '"f":1.1,"d":1.1},{"id":2,"doc":9007199254740993,"f":16777216,"d":0.1},' +
          '{"id":3,"doc":[1e400,1],"f":null,"d":null}]';
        const rows = await set.query<unknown[]>(
          `SELECT id, doc, f, d FROM \`${env.schema}\`.nums ORDER BY id`,
          [],
        );
        assert.equal(JSON.stringify([...rows]), expected);
        const [sets] = await set.query<[unknown[]]>(`CALL \`${env.schema}\`.sp_nums()`, []);
        assert.equal(JSON.stringify([...sets]), expected);

        const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
        await Deno.writeTextFile(
          `${dir}/nums_rec.toml`,
          `[template]\nname = "nums"\nstore = "mariadb"\ndatabase = "lab"\n\n` +
            `[fields.id]\ntype = "int"\n\n[fields.doc]\ntype = "json"\n\n[fields.f]\ntype = "number"\n\n` +
            `[fields.d]\ntype = "number"\n\n[ops.read]\nview = "v_nums"\nkey = ["id"]\norder = ["id"]\n`,
        );
        const [template] = recTemplates(await loadTemplates(dir));
        await Deno.remove(dir, { recursive: true });
        const adapter = createMariadbAdapter({
          config: env.config.databases.mariadb!,
          logger: silentLogger(),
        });
        await adapter.open();
        try {
          const { data } = await adapter.read({
            template: template!,
            where: new Map(),
            order: [{ field: "id", desc: false }],
            limit: 10,
            offset: 0,
            params: new Map(),
          });
          assert.equal(JSON.stringify(data), expected);
        } finally {
          await adapter.close();
        }
      },
    );
    await t.step(
      "DATE, DATETIME and TIMESTAMP columns come as ISO text in UTC, exact: years before 1000, microseconds",
      async () => {
        const sql =
          "SELECT CAST('0050-06-15' AS DATE) AS d, CAST('0099-12-31 23:59:59' AS DATETIME) AS old, " +
          "CAST('2025-03-30 01:00:00.123456' AS DATETIME(6)) AS micro, " +
          "CAST('2025-03-30 01:00:00.120' AS DATETIME(3)) AS milli, CAST(NULL AS DATE) AS none, " +
          "CAST('2024-02-29' AS DATE) AS leap";
        const expected = {
          d: "0050-06-15T00:00:00.000Z",
          old: "0099-12-31T23:59:59.000Z",
          micro: "2025-03-30T01:00:00.123456Z",
          milli: "2025-03-30T01:00:00.120Z",
          none: null,
          leap: "2024-02-29T00:00:00.000Z",
        };
        const [row] = await set.query<Array<Record<string, unknown>>>(sql, []);
        assert.deepEqual(row, expected);
        await dbQuery(env, `CREATE PROCEDURE sp_dates() BEGIN ${sql}; END`);
        const [rows] = await set.query<Array<Array<Record<string, unknown>>>>(
          `CALL \`${env.schema}\`.sp_dates()`,
          [],
        );
        assert.deepEqual(rows![0], expected);
        await dbQuery(env, "CREATE TABLE stamps (at TIMESTAMP(3) NOT NULL)");
        // 2025-03-30T01:00:00.250Z, whatever zone the inserting session is in.
        await dbQuery(env, "INSERT INTO stamps VALUES (FROM_UNIXTIME(1743296400.25))");
        const [stamp] = await set.query<Array<Record<string, unknown>>>(
          `SELECT at FROM \`${env.schema}\`.stamps`,
          [],
        );
        assert.deepEqual(stamp, { at: "2025-03-30T01:00:00.250Z" });
      },
    );
    await t.step(
      "abortInflight() ends the statements running, and no statement starts after it",
      async () => {
        const stopping = connectionSet(env, { connections: 2 });
        await stopping.open();
        try {
          const running = stopping.query("SELECT SLEEP(20)", []);
          await new Promise((resolve) => setTimeout(resolve, 100));
          const started = performance.now();
          stopping.abortInflight();
          await assert.rejects(
            running,
            (e: unknown) => e instanceof BedsError && e.code === "DB_UNAVAILABLE",
          );
          assert.ok(performance.now() - started < 5_000);
          // The other connection was idle: a statement sent to it now would outlive the node too.
          await assert.rejects(stopping.query("SELECT 1", []), unavailable(/The node is stopping/));
        } finally {
          await stopping.close();
        }
      },
    );
    await t.step(
      "a transaction's statement with no answer within query_timeout_ms fails and is rolled back",
      async () => {
        await dbQuery(
          env,
          // Its BIGINT shows a transaction's results are made exact as well.
          "CREATE PROCEDURE sp_nap_nap(IN p_ms INT) BEGIN DO SLEEP(p_ms / 1000); " +
            "SELECT p_ms AS ms, CAST(9007199254740992 AS SIGNED) + p_ms AS big; END",
        );
        const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
        await Deno.writeTextFile(
          `${dir}/nap_rec.toml`,
          `[template]\nname = "nap"\nstore = "mariadb"\ndatabase = "lab"\n\n[fields.ms]\ntype = "int"\n\n` +
            `[calls.nap]\nprocedure = "sp_nap_nap"\nparams = ["ms"]\n`,
        );
        const [template] = recTemplates(await loadTemplates(dir));
        await Deno.remove(dir, { recursive: true });
        const mariadbConfig = env.config.databases.mariadb!;
        const adapter = createMariadbAdapter({
          config: {
            ...mariadbConfig,
            master: { ...mariadbConfig.master, connections: 1, query_timeout_ms: 300 },
          },
          logger: silentLogger(),
        });
        await adapter.open();
        try {
          const nap = (ms: number) => (scope: TransactionScope) =>
            scope.call({ template: template!, call: "nap", values: new Map([["ms", ms]]) });
          const started = performance.now();
          await assert.rejects(
            adapter.transaction!(nap(20_000)),
            unavailable(/No answer from MariaDB within 300 ms/),
          );
          assert.ok(performance.now() - started < 5_000);
          assert.deepEqual((await adapter.transaction!(nap(1))).data, [{ ms: 1, big: "9007199254740993" }]);
        } finally {
          await adapter.close();
        }
      },
    );
  } finally {
    await set.close();
    await env.cleanup();
  }
});

Deno.test("MariaDB connections: close() while a lost connection is being reopened leaves no session", async () => {
  const env = await createTestEnv({ emptySchema: true });
  const master = env.config.databases.mariadb!.master;
  const proxy = startSlowProxy({ target: master.port });
  const set = createConnectionSet({
    name: "master",
    server: { ...master, port: proxy.port, connections: 1, connect_timeout_ms: 10_000 },
    logger: silentLogger(),
  });
  const sessions = async () =>
    (await dbQuery<Array<{ n: number }>>(
      env,
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
      [env.schema],
    ))[0]!.n;
  try {
    await set.open();
    const [{ id }] = await set.query<Array<{ id: number }>>("SELECT CONNECTION_ID() AS id", []) as [
      { id: number },
    ];
    await dbQuery(env, `KILL ${id}`);
    await waitFor(() => Promise.resolve(set.health().alive === 0), 5_000, "the connection to be lost");
    // The reopening connection reaches the proxy within the first backoff (at most 100 ms) and then
    // waits there for the server's greeting while close() runs.
    proxy.freeze();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await set.close();
    proxy.thaw();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(set.health().alive, 0, "a closed set has no connection");
    await waitFor(async () => await sessions() === 0, 5_000, "every session of the closed set to end");
  } finally {
    await set.close();
    proxy.close();
    await env.cleanup();
  }
});

Deno.test("MariaDB connections: a set that opens only some of its connections says so, and serves on those", async () => {
  const env = await createTestEnv({ emptySchema: true });
  const user = `beds_lim_${crypto.randomUUID().slice(0, 8)}`;
  await dbQuery(env, `CREATE USER '${user}'@'%' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS 1`);
  await dbQuery(env, `GRANT SELECT, EXECUTE ON \`${env.schema}\`.* TO '${user}'@'%'`);
  const lines: string[] = [];
  const set = createConnectionSet({
    name: "master",
    server: { ...env.config.databases.mariadb!.master, user, password: "pw", connections: 2 },
    logger: pino({ level: "warn" }, { write: (line: string) => lines.push(line) }),
  });
  try {
    await set.open();
    assert.equal(set.health().alive, 1);
    const warned = lines.map((line) => JSON.parse(line)).find((l) => /did not open/.test(l.msg));
    assert.ok(warned, lines.join("\n"));
    assert.equal(warned.open, 1);
    assert.equal(warned.size, 2);
    assert.match(warned.err, /max_user_connections/i);
    assert.deepEqual(await set.query("SELECT 1 AS one", []), [{ one: 1 }]);
    await set.close();

    // A node's start says so too, in its db_pools step (its detail gave the configured count).
    const run = await cli(["check", ...env.cliArgs], {
      BEDS_MARIADB_USER: user,
      BEDS_MARIADB_PASSWORD: "pw",
    });
    assert.match(run.out, /warn\s+db_pools/, run.out);
    assert.match(run.out, /mariadb master: 1 of \d+ connections open, the rest retried in the background/);
    assert.match(run.out, /× 1 of \d+ open/);
  } finally {
    await set.close();
    await dbQuery(env, `DROP USER '${user}'@'%'`);
    await env.cleanup();
  }
});
