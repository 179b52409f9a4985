import assert from "node:assert/strict";
import { createMariadbAdapter } from "../../src/adapters/mod.ts";
import { verifyTemplates } from "../../src/adapters/mariadb/verify.ts";
import type { MariadbConfig, MariadbServerConfig } from "../../src/config/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { compileTemplate, compileTxnTemplate, type RecTemplate } from "../../src/templates/mod.ts";
import { parse } from "smol-toml";

const TPL = compileTemplate(
  "tpl/cas.toml",
  `[template]
name = "cas"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[fields.n]
type = "int"

[ops.read]
view = "v_cas"
key = ["id"]

[ops.create]
procedure = "sp_cas_create"
params = ["n"]
`,
);

const TXN = compileTxnTemplate(
  "tpl/ctx_txn.toml",
  parse(`[template]
name = "ctx"
kind = "txn"
[[steps]]
name = "one"
template = "cas"
op = "create"
data = { n = 1 }
`),
);

type Row = Record<string, unknown>;

/** A catalog of `schema` holding v_cas and sp_cas_create, as a server with `lowerCase` reports it. */
function catalog(
  schema: string,
  lowerCase: number,
  definition: string | null = "BEGIN INSERT INTO cas VALUES (1); END",
) {
  return (sql: string): Promise<Row[]> => {
    if (sql.includes("lower_case_table_names")) return Promise.resolve([{ l: lowerCase }]);
    if (sql.includes("information_schema.TABLES")) {
      return Promise.resolve([{ s: schema, n: "v_cas", t: "VIEW" }]);
    }
    if (sql.includes("information_schema.ROUTINES")) {
      return Promise.resolve([{ s: schema, n: "sp_cas_create", t: "PROCEDURE", d: definition }]);
    }
    if (sql.includes("information_schema.PARAMETERS")) {
      return Promise.resolve([{ s: schema, n: "sp_cas_create", t: "PROCEDURE", p: "p_n" }]);
    }
    if (sql.includes("information_schema.COLUMNS")) {
      return Promise.resolve([{ s: schema, n: "v_cas", c: "id" }]);
    }
    return Promise.resolve([]);
  };
}

const verify = (
  query: (sql: string) => Promise<Row[]>,
  schema = "Lab_Data",
  templates: RecTemplate[] = [TPL],
) => verifyTemplates({ templates, schemaOf: () => schema, query, drift: true, transactions: [TXN] });

Deno.test("verifyTemplates() compares schema names as the server does (lower_case_table_names)", async (t) => {
  await t.step(
    "folded to lower case (1) or compared so (2): the configured case does not matter",
    async () => {
      assert.deepEqual(await verify(catalog("lab_data", 1)), []);
      assert.deepEqual(await verify(catalog("lab_data", 2)), []);
    },
  );
  await t.step("kept as written (0): another case is another schema", async () => {
    const problems = await verify(catalog("lab_data", 0));
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [
      ["ops.read.view", 'view "Lab_Data.v_cas" does not exist'],
      [
        "ops.create.procedure",
        'procedure "Lab_Data.sp_cas_create" does not exist, or the node\'s account may not execute it',
      ],
    ]);
  });
  await t.step("a TXN step's routine is found in another case too", async () => {
    const problems = await verify(catalog("lab_data", 1, "BEGIN INSERT INTO cas VALUES (1); COMMIT; END"));
    assert.deepEqual(problems.map((p) => [p.template, p.path, p.message]), [
      [
        "ctx",
        "steps.0",
        `procedure "Lab_Data.sp_cas_create" runs COMMIT itself, which ends step "one"'s transaction early`,
      ],
    ]);
  });
});

Deno.test("verifyTemplates() warns when a TXN step's routine definition cannot be read", async () => {
  const problems = await verify(catalog("lab", 0, null), "lab");
  assert.deepEqual(problems, [{
    template: "ctx",
    file: "tpl/ctx_txn.toml",
    path: "steps.0",
    object: "lab.sp_cas_create",
    message:
      'procedure "lab.sp_cas_create" cannot be checked for COMMIT or ROLLBACK: its definition is not ' +
      "readable; only its definer, or an account with SELECT on mysql.proc (SHOW CREATE ROUTINE from " +
      "MariaDB 11.3) sees it",
    severity: "warning",
  }]);
});

Deno.test("the MariaDB adapter maps only configured names to schemas, never Object's own properties", () => {
  // Never opened: only the settings a connection would use are left out.
  const server = {
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    password: "",
    connections: 1,
    max_queue: 1,
    transaction_connections: 1,
    connect_timeout_ms: 1000,
  } as MariadbServerConfig;
  const config: MariadbConfig = { master: server, schemas: { lab: "beds_lab" } };
  const adapter = createMariadbAdapter({ config, logger: silentLogger() });
  assert.equal(adapter.schemaOf("lab"), "beds_lab");
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    assert.equal(adapter.schemaOf(name), name);
  }
});

Deno.test("verifyTemplates() reads a long field's parameter as the catalog shows it: cut at 64 characters", async () => {
  const field = "f".repeat(64);
  const long = compileTemplate(
    "tpl/clo.toml",
    `[template]\nname = "clo"\nstore = "mariadb"\ndatabase = "lab"\n\n[fields.${field}]\ntype = "int"\n\n` +
      `[ops.create]\nprocedure = "sp_clo_create"\nparams = ["${field}"]\n`,
  );
  const query = (sql: string): Promise<Row[]> => {
    if (sql.includes("lower_case_table_names")) return Promise.resolve([{ l: 0 }]);
    if (sql.includes("information_schema.ROUTINES")) {
      return Promise.resolve([{ s: "lab", n: "sp_clo_create", t: "PROCEDURE" }]);
    }
    if (sql.includes("information_schema.PARAMETERS")) {
      // MariaDB takes `p_` + 64 characters, and its catalog keeps 64 of them.
      return Promise.resolve([{
        s: "lab",
        n: "sp_clo_create",
        t: "PROCEDURE",
        p: `p_${field}`.slice(0, 64),
      }]);
    }
    return Promise.resolve([]);
  };
  assert.deepEqual(await verify(query, "lab", [long]), []);
});
