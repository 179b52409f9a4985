/**
 * Verification finds what the catalog shows but the node cannot use, or
 * would use wrongly: parameters named for each other's fields (the values
 * would be swapped), a view whose definer is gone, a view the secondary's
 * account may not read (reads go there), and TXN steps whose procedure
 * commits implicitly or calls one that commits.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { cli, createTestEnv, dbQuery, ROOT, uniqueId } from "../helpers/services.ts";
import { templatesWith } from "../helpers/files.ts";

/** The `templates verify` row of `template` at `path`, split into its columns. */
function row(out: string, template: string, path: string): string[] {
  const line = out.split("\n").find((l) => {
    const cells = l.split(/\s{2,}/);
    return cells[1] === template && cells[2] === path;
  });
  assert.ok(line, `no row for ${template} ${path} in:\n${out}`);
  return line.split(/\s{2,}/);
}

Deno.test("verify refuses a procedure whose parameters are named for each other's fields", async () => {
  const env = await createTestEnv();
  try {
    // The template passes id, name, price, stock: name and price would land in each other's columns.
    await dbQuery(
      env,
      `CREATE OR REPLACE PROCEDURE sp_prd_update(
         IN p_id INT UNSIGNED, IN p_price DECIMAL(10,2), IN p_name VARCHAR(100), IN p_stock INT)
       MODIFIES SQL DATA
       UPDATE products SET name = COALESCE(p_name, name), price = COALESCE(p_price, price) WHERE id = p_id`,
    );
    const run = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(run.code, 16, run.out + run.err);
    assert.deepEqual(row(run.out, "prd", "ops.update.procedure").slice(0, 1), ["error"]);
    assert.match(
      row(run.out, "prd", "ops.update.procedure")[4]!,
      /^parameter 2 is "p_price", but the template passes field "name" there and "price" elsewhere/,
    );
    assert.equal((await cli(["check", ...env.cliArgs])).code, 16, "a node would not start");
  } finally {
    await env.cleanup();
  }
});

Deno.test("verify reads each view as the node does: a definer that is gone fails it", async () => {
  const env = await createTestEnv();
  try {
    await dbQuery(
      env,
      "CREATE OR REPLACE DEFINER = 'beds_nobody'@'%' SQL SECURITY DEFINER VIEW v_products AS " +
        "SELECT id, sku, name, price, stock FROM products",
    );
    const run = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(run.code, 16, run.out + run.err);
    const [level, , , object, message] = row(run.out, "prd", "ops.read.view");
    assert.equal(level, "error");
    assert.equal(object, `${env.schema}.v_products`);
    assert.match(message!, /^cannot be read on the master: .*definer.*does not exist \(errno 1449\)$/);
    assert.equal((await cli(["check", ...env.cliArgs])).code, 16, "a node would not start");
  } finally {
    await env.cleanup();
  }
});

Deno.test("verify reads the views on the secondary, where the reads go", async () => {
  const user = `bt_sec_${uniqueId()}`.slice(0, 32);
  const root = await mariadb.createConnection({ host: "127.0.0.1", user: "root" });
  await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  await root.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'pw'`);
  const env = await createTestEnv({
    extraToml: `\n[databases.mariadb.secondary]\nhost = "127.0.0.1"\nuser = "${user}"\npassword = "pw"\n`,
  });
  try {
    // The secondary's account may read every view but v_products.
    for (const host of ["%", "localhost"]) {
      for (const view of ["v_customers", "v_orders"]) {
        await root.query(`GRANT SELECT ON \`${env.schema}\`.\`${view}\` TO '${user}'@'${host}'`);
      }
    }
    const run = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(run.code, 16, run.out + run.err);
    const [level, , , , message] = row(run.out, "prd", "ops.read.view");
    assert.equal(level, "error");
    assert.match(
      message!,
      /^cannot be read on the secondary \(reads go there\): SELECT command denied.* \(errno 1142\)$/,
    );
    assert.doesNotMatch(run.out, /cus\s+ops\.read\.view/, "a view it may read passes");
    assert.equal((await cli(["check", ...env.cliArgs])).code, 16, "a node would not start");
  } finally {
    await env.cleanup();
    for (const host of ["%", "localhost"]) await root.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
    await root.end();
  }
});

/** A TXN template of two steps: a product, then a named call of `tik` that runs `sp_tik_run`. */
const TXN_FILES = {
  "tik_rec.toml": `[template]
name = "tik"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[calls.run]
procedure = "sp_tik_run"
params = ["id"]
`,
  "ptk_txn.toml": `[template]
name = "ptk"
kind = "txn"

[fields.sku]
type = "string"

[input]
data = ["sku"]

[[steps]]
name = "product"
template = "prd"
op = "create"
data = { sku = "$data.sku", name = "Ticket", price = "1.00", stock = 1 }

[[steps]]
name = "ticket"
template = "tik"
op = "call"
call = "run"
data = { id = 1 }
`,
};

Deno.test("verify warns of a TXN step whose procedure commits implicitly, or calls one that commits", async (t) => {
  const dir = await templatesWith(ROOT, TXN_FILES);
  const env = await createTestEnv({ templatesDir: dir });
  const step = async () => {
    const run = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(run.code, 0, run.out + run.err);
    return row(run.out, "ptk", "steps.1");
  };
  try {
    await dbQuery(env, "CREATE TABLE tickets (id INT PRIMARY KEY)");
    await t.step("TRUNCATE (the statement, not the function)", async () => {
      await dbQuery(
        env,
        "CREATE OR REPLACE PROCEDURE sp_tik_run(IN p_id INT) BEGIN SELECT TRUNCATE(1.5, 0) AS x; TRUNCATE TABLE tickets; END",
      );
      assert.deepEqual((await step()).slice(3), [
        `${env.schema}.sp_tik_run`,
        `runs TRUNCATE itself, which ends step "ticket"'s transaction early`,
      ]);
    });
    await t.step("a COMMIT two calls down", async () => {
      await dbQuery(
        env,
        "CREATE OR REPLACE PROCEDURE sp_tik_commit() BEGIN INSERT INTO tickets VALUES (2); COMMIT; END",
      );
      await dbQuery(env, "CREATE OR REPLACE PROCEDURE sp_tik_inner() BEGIN CALL sp_tik_commit(); END");
      await dbQuery(
        env,
        `CREATE OR REPLACE PROCEDURE sp_tik_run(IN p_id INT) BEGIN INSERT INTO tickets VALUES (p_id); CALL \`${env.schema}\`.sp_tik_inner(); END`,
      );
      assert.deepEqual((await step()).slice(3), [
        `${env.schema}.sp_tik_run`,
        `calls "${env.schema}.sp_tik_inner", which calls "${env.schema}.sp_tik_commit", which runs COMMIT, ` +
        `which ends step "ticket"'s transaction early`,
      ]);
    });
    await t.step("a temporary table and a call to a procedure that commits nothing pass", async () => {
      await dbQuery(
        env,
        "CREATE OR REPLACE PROCEDURE sp_tik_commit() BEGIN INSERT INTO tickets VALUES (2); END",
      );
      await dbQuery(
        env,
        "CREATE OR REPLACE PROCEDURE sp_tik_run(IN p_id INT) BEGIN CREATE TEMPORARY TABLE IF NOT EXISTS tt (x INT); " +
          "DROP TEMPORARY TABLE tt; CALL sp_tik_inner(); END",
      );
      const run = await cli(["templates", "verify", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.doesNotMatch(run.out, /ptk\s+steps\.1/);
    });
  } finally {
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
