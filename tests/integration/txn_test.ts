/**
 * A TXN template's transaction against the real MariaDB, where it can stop being all or nothing:
 * a step that ends the transaction itself, a COMMIT whose answer never comes, and a ROLLBACK on a
 * link that stopped answering.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { createMariadbAdapter, type TransactionScope } from "../../src/adapters/mod.ts";
import { decide } from "../../src/brokers/mod.ts";
import { dispatch, type DispatchDeps } from "../../src/dispatch/mod.ts";
import { BedsError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { createRegistry, loadTemplates, type RecTemplate, recTemplates } from "../../src/templates/mod.ts";
import { createTestEnv, dbQuery, ROOT, type TestEnv } from "../helpers/services.ts";
import { startSlowProxy } from "../helpers/slow_proxy.ts";

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e) => e as BedsError);

/** What the broker does with a TXN (op create) that failed so on its first attempt. */
const disposition = (error: BedsError, hasReplyTo = true) =>
  decide({
    code: error.code,
    op: "create",
    attempt: 1,
    retryDelaysMs: [100],
    maxAttempts: 4,
    now: 0,
    hasReplyTo,
  })
    .action;

/** Creates product `sku` in a transaction's scope. */
const createProduct = (scope: TransactionScope, prd: RecTemplate, sku: string) =>
  scope.create({
    template: prd,
    values: new Map<string, unknown>([["sku", sku], ["name", "x"], ["price", "1.00"], ["stock", 0]]),
  });

/** Templates plus a call whose procedure ends the transaction in a way `verify` does not see. */
async function withEndingStep(
  env: TestEnv,
  ending: string,
  fn: (deps: DispatchDeps) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "beds_txn_" });
  try {
    await Deno.copyFile(`${ROOT}/templates/prd_rec.toml`, `${dir}/prd_rec.toml`);
    await dbQuery(env, "CREATE TABLE IF NOT EXISTS staging (x INT PRIMARY KEY)");
    // Nested: the step's own procedure has no COMMIT or START TRANSACTION in its text.
    await dbQuery(env, `CREATE OR REPLACE PROCEDURE sp_helper() BEGIN ${ending}; END`);
    await dbQuery(
      env,
      "CREATE OR REPLACE PROCEDURE sp_stg_reset(IN p_id INT) BEGIN CALL sp_helper(); SELECT p_id AS id; END",
    );
    await Deno.writeTextFile(
      `${dir}/stg_rec.toml`,
      `[template]\nname = "stg"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\n` +
        `[calls.reset]\nprocedure = "sp_stg_reset"\nparams = ["id"]\n`,
    );
    await Deno.writeTextFile(
      `${dir}/imp_txn.toml`,
      `[template]\nname = "imp"\nkind = "txn"\n[fields.sku]\ntype = "string"\n[input]\ndata = ["sku"]\nrequired = ["sku"]\n` +
        `[[steps]]\nname = "first"\ntemplate = "prd"\nop = "create"\n` +
        `data = { sku = "$data.sku", name = "A", price = "1.00", stock = 0 }\n` +
        `[[steps]]\nname = "reset"\ntemplate = "stg"\nop = "call"\ncall = "reset"\ndata = { id = "$steps.first.id" }\n`,
    );
    const registry = createRegistry(await loadTemplates(dir));
    const adapter = createMariadbAdapter({ config: env.config.databases.mariadb!, logger: silentLogger() });
    await adapter.open();
    try {
      await fn({
        registry: () => registry,
        adapters: new Map([["mariadb", adapter]]),
        limits: env.config.limits,
      });
    } finally {
      await adapter.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a TXN step that ends the transaction fails the TXN as DB_ERROR, saying what may be committed", async (t) => {
  const env = await createTestEnv();
  try {
    for (
      const [sku, label, ending, step] of [
        [
          "END-0001",
          "an implicit commit (TRUNCATE in a nested procedure)",
          "TRUNCATE TABLE staging",
          "reset",
        ],
        ["END-0002", "a COMMIT in a nested procedure", "COMMIT", "reset"],
        // Still in a transaction afterwards, a new one: only the savepoint set at the start tells.
        ["END-0003", "a START TRANSACTION in a nested procedure", "START TRANSACTION", undefined],
      ] as const
    ) {
      // A SKU each: the step before the one that ends the transaction commits its product.
      await t.step(label, async () => {
        await withEndingStep(env, ending, async (deps) => {
          const error = await failure(
            dispatch({ template: "imp", op: "create", data: { sku } }, new Set(["create"] as const), deps),
          );
          assert.ok(error instanceof BedsError, String(error));
          assert.equal(error.code, "DB_ERROR", error.message);
          assert.match(error.message, /ended before its last step.*may be committed/);
          assert.equal((error.details as { step?: string } | undefined)?.step, step);
          // Not retried as a whole: its first step may be there already.
          assert.equal(
            disposition(error),
            "reply",
          );
        });
      });
    }
  } finally {
    await env.cleanup();
  }
});

/** Template prd, and an adapter whose master is reached through a proxy on `port` (statements time out at 500 ms). */
async function throughProxy(env: TestEnv, port: number) {
  const prd = recTemplates(await loadTemplates(`${ROOT}/templates`)).find((t) => t.name === "prd")!;
  const m = env.config.databases.mariadb!;
  const adapter = createMariadbAdapter({
    config: { ...m, master: { ...m.master, port, connections: 1, query_timeout_ms: 500 } },
    logger: silentLogger(),
  });
  return { prd, adapter };
}

/**
 * A proxy to MariaDB that, once the client has sent a COMMIT, passes it on and drops every byte
 * the server sends back: the COMMIT runs, and its answer is lost.
 */
function commitAnswerLost() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  let cut = false;
  const commit = new TextEncoder().encode("COMMIT");
  const holds = (bytes: Uint8Array) => bytes.some((_, i) => commit.every((c, j) => bytes[i + j] === c));
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: 3306 });
      open.push(client, server);
      const pump = async (from: Deno.Conn, to: Deno.Conn, up: boolean) => {
        const buffer = new Uint8Array(65536);
        try {
          for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
            const bytes = buffer.subarray(0, n);
            if (up && holds(bytes)) cut = true;
            if (!up && cut) continue;
            for (let at = 0; at < n;) at += await to.write(bytes.subarray(at));
          }
        } catch { /* closed */ }
      };
      void pump(client, server, true);
      void pump(server, client, false);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("a TXN step that ends the transaction and then fails is still told apart from a plain failure", async (t) => {
  const env = await createTestEnv();
  await dbQuery(env, "CREATE TABLE IF NOT EXISTS staging (x INT PRIMARY KEY)");
  await dbQuery(env, "INSERT INTO staging VALUES (1)");
  // Another session holds the row the steps try to update: they wait, then fail with 1205.
  const holder = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env.schema });
  await holder.query("START TRANSACTION");
  await holder.query("SELECT x FROM staging WHERE x = 1 FOR UPDATE");
  const blocked = "SET SESSION innodb_lock_wait_timeout = 1; UPDATE staging SET x = 1 WHERE x = 1";
  const run = (deps: DispatchDeps, sku: string) =>
    failure(dispatch({ template: "imp", op: "create", data: { sku } }, new Set(["create"] as const), deps));
  const retried = (error: BedsError) => disposition(error) === "retry";
  try {
    await t.step("a COMMIT, then a lock wait timeout: DB_ERROR, not retried", async () => {
      await withEndingStep(env, `COMMIT; ${blocked}`, async (deps) => {
        const error = await run(deps, "END-0101");
        assert.ok(error instanceof BedsError, String(error));
        assert.equal(error.code, "DB_ERROR", error.message);
        assert.match(error.message, /ended before its last step.*may be committed; then Step "reset" failed/);
        assert.equal((error.details as { step?: string }).step, "reset");
        assert.equal(retried(error), false);
      });
    });
    await t.step("a lock wait timeout alone: DB_UNAVAILABLE, retried, nothing committed", async () => {
      await withEndingStep(env, blocked, async (deps) => {
        const error = await run(deps, "END-0102");
        assert.ok(error instanceof BedsError, String(error));
        assert.equal(error.code, "DB_UNAVAILABLE", error.message);
        assert.equal(retried(error), true);
        assert.equal(
          (await dbQuery<unknown[]>(env, "SELECT id FROM products WHERE sku = 'END-0102'")).length,
          0,
        );
      });
    });
    await t.step("a step's own savepoint, whatever its name, is no false alarm", async () => {
      await withEndingStep(env, "SAVEPOINT beds_txn; RELEASE SAVEPOINT beds_txn", async (deps) => {
        const result = await dispatch(
          { template: "imp", op: "create", data: { sku: "END-0103" } },
          new Set(["create"] as const),
          deps,
        );
        assert.equal((result.data as unknown[]).length, 2);
      });
    });
  } finally {
    await holder.end();
    await env.cleanup();
  }
});

Deno.test({
  name: "a TXN whose COMMIT's answer is lost fails as DB_ERROR with an unknown outcome, not retried",
  // The proxy's sockets end with the test's own cleanup.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await createTestEnv();
    const proxy = commitAnswerLost();
    const { prd, adapter } = await throughProxy(env, proxy.port);
    try {
      await adapter.open();
      const error = await failure(adapter.transaction!(async (scope: TransactionScope) => {
        await createProduct(scope, prd, "CMT-0001");
      }));
      assert.ok(error instanceof BedsError, String(error));
      assert.equal(error.code, "DB_ERROR", error.message);
      assert.match(error.message, /may have been committed/);
      assert.deepEqual(error.details, { step: "commit", outcome: "unknown" });
      // It was: a retry would have created the product twice (or failed CONFLICT for one that exists).
      const rows = await dbQuery(env, "SELECT sku FROM products WHERE sku = 'CMT-0001'");
      assert.equal(rows.length, 1);
      assert.notEqual(disposition(error, false), "retry");
    } finally {
      proxy.close();
      await adapter.close().catch(() => {});
      await env.cleanup();
    }
  },
});

Deno.test({
  name: "the ROLLBACK after a failed TXN step is bounded by query_timeout_ms",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await createTestEnv();
    const proxy = startSlowProxy({ target: 3306 });
    const { prd, adapter } = await throughProxy(env, proxy.port);
    try {
      await adapter.open();
      const outcome = failure(adapter.transaction!(async (scope: TransactionScope) => {
        await createProduct(scope, prd, "HNG-0001");
        proxy.freeze(); // the link stops answering before the ROLLBACK
        throw new BedsError("NOT_FOUND", 'Step "second" failed: no value');
      }));
      const pending = new Promise((resolve) => setTimeout(() => resolve("still pending"), 3000));
      const settled = await Promise.race([outcome, pending]);
      assert.ok(settled instanceof BedsError, String(settled));
      assert.equal(settled.code, "NOT_FOUND", "the step's own error, once the ROLLBACK gave up");
    } finally {
      proxy.thaw();
      proxy.close();
      await adapter.close().catch(() => {});
      await env.cleanup();
    }
  },
});
