/**
 * A TXN whose transaction the server rolled back whole, against the real MariaDB: a deadlock and a
 * lock wait timeout under innodb_rollback_on_timeout (nothing committed, retried as a whole), and a
 * step whose procedure rolls back in its own handler (told as a transaction that ended early, with
 * the procedure's own error).
 */
import assert from "node:assert/strict";
import pino from "pino";
import { startPrivateMariadb } from "../helpers/private_mariadb.ts";
import { createMariadbAdapter } from "../../src/adapters/mod.ts";
import { decide } from "../../src/brokers/mod.ts";
import { dispatch, type DispatchDeps } from "../../src/dispatch/mod.ts";
import { BedsError } from "../../src/errors.ts";
import { createRegistry, loadTemplates } from "../../src/templates/mod.ts";
import { createTestEnv, dbQuery, type TestEnv } from "../helpers/services.ts";

const RETRY_DELAYS_MS = [50, 100, 200];
const MAX_ATTEMPTS = 4;

/**
 * Table t (rows 1 and 2), REC template `xht` whose call `hit` bumps a row's hits, waits `ms` and
 * reads it back, and TXN `xdl`: hit row a (waiting ms), then row b. `fail` also gives `xht` a call
 * `bad` whose procedure rolls back in its EXIT HANDLER and signals again, and TXN `xrb` that runs
 * hit and then bad.
 */
async function withTemplates(
  env: TestEnv,
  fn: (deps: DispatchDeps, lines: string[]) => Promise<void>,
  server: { port: number; sql: (statement: string) => Promise<unknown> } = {
    port: 3306,
    sql: (statement) => dbQuery(env, statement),
  },
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "beds_txn_rb_" });
  const { sql } = server;
  try {
    await sql("CREATE TABLE t (id INT PRIMARY KEY, hits INT NOT NULL DEFAULT 0)");
    await sql("INSERT INTO t (id) VALUES (1), (2)");
    await sql(
      "CREATE PROCEDURE sp_x_hit(IN p_id INT, IN p_ms INT) BEGIN " +
        "UPDATE t SET hits = hits + 1 WHERE id = p_id; DO SLEEP(p_ms / 1000); " +
        "SELECT id, hits FROM t WHERE id = p_id; END",
    );
    await sql(
      "CREATE PROCEDURE sp_x_bad(IN p_id INT) BEGIN " +
        "DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; " +
        "UPDATE t SET hits = hits + 100 WHERE id = p_id; " +
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'hits refused'; END",
    );
    await Deno.writeTextFile(
      `${dir}/xht_rec.toml`,
      `[template]\nname = "xht"\nstore = "mariadb"\ndatabase = "lab"\n` +
        `[fields.id]\ntype = "int"\n[fields.ms]\ntype = "int"\n` +
        `[calls.hit]\nprocedure = "sp_x_hit"\nparams = ["id", "ms"]\n` +
        `[calls.bad]\nprocedure = "sp_x_bad"\nparams = ["id"]\n`,
    );
    await Deno.writeTextFile(
      `${dir}/xdl_txn.toml`,
      `[template]\nname = "xdl"\nkind = "txn"\n` +
        `[fields.a]\ntype = "int"\n[fields.b]\ntype = "int"\n[fields.ms]\ntype = "int"\n` +
        `[input]\ndata = ["a", "b", "ms"]\nrequired = ["a", "b", "ms"]\n` +
        `[[steps]]\nname = "first"\ntemplate = "xht"\nop = "call"\ncall = "hit"\n` +
        `data = { id = "$data.a", ms = "$data.ms" }\n` +
        `[[steps]]\nname = "second"\ntemplate = "xht"\nop = "call"\ncall = "hit"\n` +
        `data = { id = "$data.b", ms = 0 }\n`,
    );
    await Deno.writeTextFile(
      `${dir}/xrb_txn.toml`,
      `[template]\nname = "xrb"\nkind = "txn"\n` +
        `[fields.a]\ntype = "int"\n[input]\ndata = ["a"]\nrequired = ["a"]\n` +
        `[[steps]]\nname = "first"\ntemplate = "xht"\nop = "call"\ncall = "hit"\n` +
        `data = { id = "$data.a", ms = 0 }\n` +
        `[[steps]]\nname = "refused"\ntemplate = "xht"\nop = "call"\ncall = "bad"\n` +
        `data = { id = "$data.a" }\n`,
    );
    const registry = createRegistry(await loadTemplates(dir));
    const lines: string[] = [];
    const config = env.config.databases.mariadb!;
    const adapter = createMariadbAdapter({
      config: { ...config, master: { ...config.master, port: server.port } },
      logger: pino({ level: "warn" }, { write: (line: string) => lines.push(line) }),
    });
    await adapter.open();
    try {
      await fn({
        registry: () => registry,
        adapters: new Map([["mariadb", adapter]]),
        limits: env.config.limits,
      }, lines);
    } finally {
      await adapter.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs TXN `template` as a broker would: again after each failure that it retries. */
async function asBroker(deps: DispatchDeps, template: string, data: Record<string, unknown>) {
  const attempts: BedsError[] = [];
  for (let attempt = 1;; attempt++) {
    try {
      const result = await dispatch({ template, op: "create", data }, new Set(["create"] as const), deps);
      return { result, attempts };
    } catch (error) {
      assert.ok(error instanceof BedsError, String(error));
      attempts.push(error);
      const disposition = decide({
        code: error.code,
        op: "create",
        attempt,
        retryDelaysMs: RETRY_DELAYS_MS,
        maxAttempts: MAX_ATTEMPTS,
        now: Date.now(),
        hasReplyTo: true,
      });
      if (disposition.action !== "retry") return { result: undefined, attempts };
      await new Promise((resolve) => setTimeout(resolve, disposition.delayMs));
    }
  }
}

const endedLogged = (lines: string[]) => lines.filter((line) => /ended its transaction/.test(line));

Deno.test("a TXN that deadlocks is DB_UNAVAILABLE and retried whole: nothing was committed", async () => {
  const env = await createTestEnv({ emptySchema: true });
  try {
    await withTemplates(env, async (deps, lines) => {
      // Each locks its first row, waits, then wants the other's: one of them is chosen as the victim.
      const [one, two] = await Promise.all([
        asBroker(deps, "xdl", { a: 1, b: 2, ms: 800 }),
        asBroker(deps, "xdl", { a: 2, b: 1, ms: 800 }),
      ]);
      const failures = [...one.attempts, ...two.attempts];
      assert.ok(one.result, `first TXN: ${one.attempts.map((e) => e.message).join(" | ")}`);
      assert.ok(two.result, `second TXN: ${two.attempts.map((e) => e.message).join(" | ")}`);
      assert.ok(failures.length >= 1, "one of them was the deadlock's victim");
      for (const error of failures) {
        assert.equal(error.code, "DB_UNAVAILABLE", error.message);
        assert.notEqual((error.details as { reason?: string } | undefined)?.reason, "transaction_ended");
      }
      // Each TXN applied once: the victim's first attempt left nothing behind.
      const rows = await dbQuery<Array<{ id: number; hits: number }>>(
        env,
        "SELECT id, hits FROM t ORDER BY id",
      );
      assert.deepEqual(rows.map((r) => [r.id, Number(r.hits)]), [[1, 2], [2, 2]]);
      assert.deepEqual(endedLogged(lines), []);
    });
  } finally {
    await env.cleanup();
  }
});

Deno.test("a TXN step whose procedure rolls back in its handler fails DB_ERROR, transaction_ended, with its own error", async () => {
  const env = await createTestEnv({ emptySchema: true });
  try {
    await withTemplates(env, async (deps, lines) => {
      const { result, attempts } = await asBroker(deps, "xrb", { a: 1 });
      assert.equal(result, undefined);
      assert.equal(attempts.length, 1, "not retried");
      const [error] = attempts as [BedsError];
      assert.equal(error.code, "DB_ERROR", error.message);
      assert.equal((error.details as { reason?: string }).reason, "transaction_ended");
      assert.equal((error.details as { step?: string }).step, "refused");
      assert.match(error.message, /ended before its last step/);
      assert.match(error.message, /then Step "refused" failed: hits refused/);
      // The ROLLBACK took the step before with it.
      const rows = await dbQuery<Array<{ hits: number }>>(env, "SELECT hits FROM t ORDER BY id");
      assert.deepEqual(rows.map((r) => Number(r.hits)), [0, 0]);
      assert.equal(endedLogged(lines).length, 1);
    });
  } finally {
    await env.cleanup();
  }
});

/**
 * A throw-away MariaDB server of its own (the shared one keeps its settings), with `options` on
 * its command line and schema `schema`; `sql` runs a statement as root in it.
 */
async function privateServer(schema: string, options: string[]) {
  const server = await startPrivateMariadb(options, (conn) => conn.query(`CREATE DATABASE \`${schema}\``));
  const sql = async (statement: string) => {
    const conn = await server.connect(schema);
    try {
      return await conn.query(statement);
    } finally {
      await conn.end();
    }
  };
  return { port: server.port, sql, connect: () => server.connect(schema), stop: server.stop };
}

Deno.test("a TXN whose lock wait times out under innodb_rollback_on_timeout is DB_UNAVAILABLE and retried", async () => {
  const env = await createTestEnv({ emptySchema: true });
  const server = await privateServer(env.schema, [
    "--innodb-rollback-on-timeout=1",
    "--innodb-lock-wait-timeout=1",
  ]);
  try {
    await withTemplates(env, async (deps, lines) => {
      // Another session holds row 1: the TXN bumps row 2, then waits for row 1 and times out.
      const holder = await server.connect();
      try {
        await holder.query("START TRANSACTION");
        await holder.query("SELECT id FROM t WHERE id = 1 FOR UPDATE");
        const error = await dispatch(
          { template: "xdl", op: "create", data: { a: 2, b: 1, ms: 0 } },
          new Set(["create"] as const),
          deps,
        ).then(() => undefined, (e) => e as BedsError);
        assert.ok(error instanceof BedsError, String(error));
        assert.equal(error.code, "DB_UNAVAILABLE", error.message);
        assert.equal((error.details as { step?: string }).step, "second");
        const action = decide({
          code: error.code,
          op: "create",
          attempt: 1,
          retryDelaysMs: RETRY_DELAYS_MS,
          maxAttempts: MAX_ATTEMPTS,
          now: Date.now(),
          hasReplyTo: true,
        }).action;
        assert.equal(action, "retry");
      } finally {
        await holder.end();
      }
      const rows = await server.sql("SELECT id, hits FROM t ORDER BY id") as Array<
        { id: number; hits: number }
      >;
      assert.deepEqual(rows.map((r) => [r.id, Number(r.hits)]), [[1, 0], [2, 0]]);
      assert.deepEqual(endedLogged(lines), []);
    }, server);
  } finally {
    await server.stop();
    await env.cleanup();
  }
});
