import assert from "node:assert/strict";
import { loadLabSchema } from "../../lab/db.ts";
import { cli, createTestEnv, dbQuery, ROOT, uniqueId } from "../helpers/services.ts";

/** A TXN template whose step procedure (sp_ord_create) runs its own transaction. */
const OTX_TEMPLATE = `[template]
name = "otx"
kind = "txn"
description = "One order inside a transaction"

[fields.customer_id]
type = "int"

[fields.product_id]
type = "int"

[input]
data = ["customer_id", "product_id"]

[[steps]]
name = "order"
template = "ord"
op = "create"
data = { customer_id = "$data.customer_id", product_id = "$data.product_id", qty = 1 }
`;

async function templatesWithTxn(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  for await (const entry of Deno.readDir(`${ROOT}/templates`)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      await Deno.copyFile(`${ROOT}/templates/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  await Deno.writeTextFile(`${dir}/otx_txn.toml`, OTX_TEMPLATE);
  return dir;
}

/** The table row of `template` at `path`, split into its columns. */
function row(out: string, template: string, path: string): string[] {
  const line = out.split("\n").find((l) => {
    const cells = l.split(/\s{2,}/);
    return cells[1] === template && cells[2] === path;
  });
  assert.ok(line, `no row for ${template} ${path} in:\n${out}`);
  return line.split(/\s{2,}/);
}

/** sp_prd_update as the lab has it, but with p_name renamed: same count, drifted name. */
const RENAMED_PRD_UPDATE = `CREATE OR REPLACE PROCEDURE sp_prd_update(
  IN p_id INT UNSIGNED, IN p_title VARCHAR(100), IN p_price DECIMAL(10,2), IN p_stock INT)
  MODIFIES SQL DATA
  UPDATE products SET name = COALESCE(p_title, name) WHERE id = p_id`;

Deno.test("templates verify reports drift against the live catalog", async (t) => {
  const templatesDir = await templatesWithTxn();
  const env = await createTestEnv({ templatesDir });
  const verify = () => cli(["templates", "verify", ...env.cliArgs]);
  try {
    await t.step("the lab schema has no errors, only warnings (exit 0)", async () => {
      const run = await verify();
      assert.equal(run.code, 0, run.out + run.err);
      assert.deepEqual(row(run.out, "cus", "calls.orders.procedure"), [
        "warning",
        "cus",
        "calls.orders.procedure",
        `${env.schema}.sp_cus_orders`,
        'parameter 1 is "p_customer_id", expected "p_id" for field "id"',
      ]);
      assert.equal(row(run.out, "cus", "calls.order_total.function")[0], "warning");
      assert.deepEqual(row(run.out, "otx", "steps.0"), [
        "warning",
        "otx",
        "steps.0",
        `${env.schema}.sp_ord_create`,
        `runs ROLLBACK, START TRANSACTION, COMMIT itself, which ends step "order"'s transaction early`,
      ]);
      assert.match(
        run.out,
        /\ntemplates verify: 0 error\(s\), 3 warning\(s\); REC templates \(3 on mariadb 127\.0\.0\.1:3306\)$/,
      );
    });

    await t.step("a dropped procedure, a changed count and a renamed parameter", async () => {
      await dbQuery(env, "DROP PROCEDURE sp_prd_delete");
      await dbQuery(
        env,
        `CREATE OR REPLACE PROCEDURE sp_cus_delete(IN p_id INT UNSIGNED, IN p_force BOOLEAN)
         MODIFIES SQL DATA
         DELETE FROM customers WHERE id = p_id`,
      );
      await dbQuery(env, RENAMED_PRD_UPDATE);
      const run = await verify();
      assert.equal(run.code, 16, run.out + run.err);
      assert.deepEqual(row(run.out, "prd", "ops.delete.procedure"), [
        "error",
        "prd",
        "ops.delete.procedure",
        `${env.schema}.sp_prd_delete`,
        "does not exist, or the node's account may not execute it",
      ]);
      assert.deepEqual(row(run.out, "cus", "ops.delete.procedure").slice(3), [
        `${env.schema}.sp_cus_delete`,
        "takes 2 parameters, the template passes 1",
      ]);
      assert.equal(row(run.out, "cus", "ops.delete.procedure")[0], "error");
      assert.deepEqual(row(run.out, "prd", "ops.update.procedure"), [
        "warning",
        "prd",
        "ops.update.procedure",
        `${env.schema}.sp_prd_update`,
        'parameter 2 is "p_title", expected "p_name" for field "name"',
      ]);
      assert.match(
        run.out,
        /\ntemplates verify: 2 error\(s\), 4 warning\(s\); REC templates \(3 on mariadb 127\.0\.0\.1:3306\)$/,
      );
    });

    await t.step("start-up checks fail only on the errors, never on name drift", async () => {
      assert.equal((await cli(["check", ...env.cliArgs])).code, 16);
      await loadLabSchema({ schema: env.schema });
      await dbQuery(env, RENAMED_PRD_UPDATE);
      const check = await cli(["check", ...env.cliArgs]);
      assert.equal(check.code, 0, check.out + check.err);
      const run = await verify();
      assert.equal(run.code, 0, run.out + run.err);
      assert.equal(row(run.out, "prd", "ops.update.procedure")[0], "warning");
    });

    await t.step(
      "a view named in another case is missing where the server keeps names as written",
      async () => {
        const [server] = await dbQuery<Array<{ l: number }>>(env, "SELECT @@lower_case_table_names AS l");
        const file = `${templatesDir}/prd_rec.toml`;
        const text = await Deno.readTextFile(file);
        await Deno.writeTextFile(file, text.replace('view = "v_products"', 'view = "V_Products"'));
        try {
          const run = await verify();
          if (Number(server!.l) === 0) {
            assert.equal(run.code, 16, run.out + run.err);
            assert.deepEqual(row(run.out, "prd", "ops.read.view").slice(3), [
              `${env.schema}.V_Products`,
              "does not exist",
            ]);
          } else {
            assert.equal(run.code, 0, run.out + run.err); // names fold to lower case there
          }
        } finally {
          await Deno.writeTextFile(file, text);
        }
      },
    );
    await t.step(
      "a database the config does not map is an error, though a schema of that name exists",
      async () => {
        const file = `${templatesDir}/prd_rec.toml`;
        const text = await Deno.readTextFile(file);
        // "test" is a schema on every server here: taken as-is, the node would use it.
        await Deno.writeTextFile(file, text.replace(/^database = "lab"/m, 'database = "test"'));
        try {
          for (const run of [await verify(), await cli(["check", ...env.cliArgs])]) {
            assert.equal(run.code, 16, run.out + run.err);
            assert.match(
              run.out + run.err,
              /database "test" is not a key of \[databases\.mariadb\.schemas\] \("lab", "logs"\)/,
            );
          }
          assert.deepEqual(row((await verify()).out, "prd", "template.database").slice(0, 4), [
            "error",
            "prd",
            "template.database",
            "test",
          ]);
        } finally {
          await Deno.writeTextFile(file, text);
        }
      },
    );
    await t.step("a procedure whose definer is gone is an error (every call would fail)", async () => {
      const definer = `gone_${uniqueId()}`;
      await dbQuery(env, `CREATE USER '${definer}'@'%'`);
      try {
        await dbQuery(
          env,
          `CREATE OR REPLACE DEFINER='${definer}'@'%' PROCEDURE sp_cus_delete(IN p_id INT UNSIGNED)
           MODIFIES SQL DATA DELETE FROM customers WHERE id = p_id`,
        );
        assert.equal((await verify()).code, 0, "its definer still exists");
      } finally {
        await dbQuery(env, `DROP USER '${definer}'@'%'`);
      }
      const run = await verify();
      assert.equal(run.code, 16, run.out + run.err);
      assert.deepEqual(row(run.out, "cus", "ops.delete.procedure"), [
        "error",
        "cus",
        "ops.delete.procedure",
        `${env.schema}.sp_cus_delete`,
        `runs as its definer "${definer}@%", which does not exist: every call fails`,
      ]);
      // A routine that runs as its invoker has no definer to lose.
      await dbQuery(
        env,
        `CREATE OR REPLACE DEFINER='${definer}'@'%' PROCEDURE sp_cus_delete(IN p_id INT UNSIGNED)
         MODIFIES SQL DATA SQL SECURITY INVOKER DELETE FROM customers WHERE id = p_id`,
      );
      assert.equal((await verify()).code, 0);
    });
  } finally {
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
  }
});

Deno.test("templates verify warns when the account cannot read a TXN step's routine definition", async () => {
  const templatesDir = await templatesWithTxn();
  // SELECT and EXECUTE on the schema only: the catalog lists the routines but not their bodies.
  const env = await createTestEnv({ templatesDir, dedicatedDbUser: true });
  try {
    const run = await cli(["templates", "verify", ...env.cliArgs]);
    assert.equal(run.code, 0, run.out + run.err);
    assert.deepEqual(row(run.out, "otx", "steps.0"), [
      "warning",
      "otx",
      "steps.0",
      `${env.schema}.sp_ord_create`,
      "cannot be checked for COMMIT or ROLLBACK: its definition is not readable; only its definer, or an " +
      "account with SELECT on mysql.proc (SHOW CREATE ROUTINE from MariaDB 11.3) sees it",
    ]);
  } finally {
    await env.cleanup();
    await Deno.remove(templatesDir, { recursive: true });
  }
});
