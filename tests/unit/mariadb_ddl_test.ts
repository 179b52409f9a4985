import assert from "node:assert/strict";
import { splitSqlScript } from "../../lab/db.ts";
import { generateMariadbDdl } from "../../src/adapters/mod.ts";
import { TemplateError } from "../../src/errors.ts";
import { compileTemplate, loadTemplates, recTemplates } from "../../src/templates/mod.ts";

const SUP_FILE = new URL("../testdata/sup_rec.toml", import.meta.url).pathname;
const TEMPLATES_DIR = new URL("../../templates", import.meta.url).pathname;

const sup = () => compileTemplate("sup_rec.toml", Deno.readTextFileSync(SUP_FILE));

/** A template with one field `f` declared as `decl` plus an int key. */
function oneField(decl: string, extra = ""): string {
  return generateMariadbDdl(compileTemplate(
    "one.toml",
    `[template]
name = "one"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.f]
${decl}

[ops.read]
view = "v_ones"
key = ["id"]
${extra}`,
  )).sql;
}

function ddlError(text: string): string {
  try {
    generateMariadbDdl(compileTemplate("bad.toml", text));
  } catch (error) {
    assert.ok(error instanceof TemplateError, String(error));
    return error.message;
  }
  assert.fail("expected a TemplateError");
}

Deno.test("generateMariadbDdl() emits the table with types, keys and constraints", () => {
  const { sql, table, view } = generateMariadbDdl(sup());
  assert.equal(table, "suppliers");
  assert.equal(view, "v_suppliers");
  assert.ok(
    sql.includes(
      [
        "CREATE TABLE IF NOT EXISTS `suppliers` (",
        "  `id`     INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'Supplier id, assigned by the database',",
        "  `name`   VARCHAR(100) NOT NULL,",
        "  `email`  VARCHAR(254) NOT NULL,",
        "  `rating` INT UNSIGNED NULL,",
        "  `active` BOOLEAN NULL,",
        "  `tier`   ENUM('gold','silver','bronze') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,",
        "  `credit` DECIMAL(12,2) NULL,",
        "  PRIMARY KEY (`id`),",
        "  KEY `ix_suppliers_email` (`email`),",
        "  KEY `ix_suppliers_tier` (`tier`),",
        "  CONSTRAINT `ck_suppliers_name` CHECK (CHAR_LENGTH(`name`) >= 1),",
        "  CONSTRAINT `ck_suppliers_rating` CHECK (`rating` >= 1 AND `rating` <= 5),",
        "  CONSTRAINT `ck_suppliers_credit` CHECK (`credit` >= 0)",
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci",
        "  COMMENT='Suppliers';",
      ].join("\n"),
    ),
    sql,
  );
  assert.match(sql, /^-- email: pattern .* is checked by BEDS only/m);
});

Deno.test("generateMariadbDdl() emits the read view with every field", () => {
  const { sql } = generateMariadbDdl(sup());
  assert.ok(
    sql.includes(
      "CREATE OR REPLACE VIEW `v_suppliers` AS\n" +
        "SELECT `id`,\n       `name`,\n       `email`,\n       `rating`,\n       `active`,\n       `tier`,\n" +
        "       `credit`\n  FROM `suppliers`;",
    ),
    sql,
  );
});

Deno.test("generateMariadbDdl() emits procedures whose parameters match the template's params in order", () => {
  const { sql } = generateMariadbDdl(sup());
  const text = "CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci";
  assert.ok(
    sql.includes(
      [
        "CREATE OR REPLACE PROCEDURE `sp_sup_create`(",
        `  IN p_name   VARCHAR(100) ${text},`,
        `  IN p_email  VARCHAR(254) ${text},`,
        "  IN p_rating INT UNSIGNED,",
        "  IN p_active BOOLEAN,",
        "  IN p_tier   VARCHAR(6) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,",
        "  IN p_credit DECIMAL(12,2)",
        ")",
        "  MODIFIES SQL DATA",
      ].join("\n"),
    ),
    sql,
  );
  assert.ok(sql.includes("CREATE OR REPLACE PROCEDURE `sp_sup_update`(\n  IN p_id     INT UNSIGNED,\n"));
  assert.ok(sql.includes("CREATE OR REPLACE PROCEDURE `sp_sup_delete`(\n  IN p_id INT UNSIGNED\n)"));
});

Deno.test("generateMariadbDdl() uses the lab's SQLSTATE conventions and returns the row from the view", async (t) => {
  const { sql } = generateMariadbDdl(sup());
  const body = (name: string) =>
    sql.slice(sql.indexOf(`PROCEDURE \`${name}\``), sql.indexOf("END$$", sql.indexOf(name)));
  await t.step("create: 45000 for a missing required value or a bad enum, row by LAST_INSERT_ID()", () => {
    const create = body("sp_sup_create");
    assert.ok(
      create.includes(
        "  IF p_name IS NULL THEN\n    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'sup name is required';",
      ),
    );
    assert.ok(create.includes("  IF p_email IS NULL THEN"));
    assert.ok(!create.includes("p_rating IS NULL"), "rating is optional");
    assert.ok(create.includes(
      "  IF p_tier IS NOT NULL AND p_tier NOT IN ('gold', 'silver', 'bronze') THEN\n" +
        "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'invalid sup tier';",
    ));
    assert.ok(
      create.includes(
        "  INSERT INTO `suppliers` (`name`, `email`, `rating`, `active`, `tier`, `credit`)\n" +
          "  VALUES (p_name, p_email, p_rating, p_active, p_tier, p_credit);\n" +
          "  SELECT `id`, `name`, `email`, `rating`, `active`, `tier`, `credit`\n" +
          "    FROM `v_suppliers`\n" +
          "   WHERE `id` = LAST_INSERT_ID();",
      ),
      create,
    );
  });
  await t.step("update: 45404 when missing, NULL leaves a column unchanged", () => {
    const update = body("sp_sup_update");
    assert.ok(update.includes(
      "  IF NOT EXISTS (SELECT 1 FROM `suppliers` WHERE `id` = p_id) THEN\n" +
        "    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'sup not found';",
    ));
    assert.ok(update.includes("     SET `name`   = COALESCE(p_name, `name`),\n"));
    assert.ok(update.includes("         `credit` = COALESCE(p_credit, `credit`)\n   WHERE `id` = p_id;"));
    assert.ok(!update.includes("`id` = COALESCE"), "the key is not updated");
  });
  await t.step("delete: 45404 when missing, returns the row before deleting it", () => {
    const del = body("sp_sup_delete");
    assert.ok(del.includes("SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'sup not found';"));
    assert.ok(del.indexOf("FROM `v_suppliers`") < del.indexOf("DELETE FROM `suppliers` WHERE `id` = p_id;"));
  });
});

Deno.test("generateMariadbDdl() lists a named call's signature as a comment and creates no object for it", () => {
  const { sql } = generateMariadbDdl(sup());
  assert.ok(sql.includes(
    "-- calls.best: Active suppliers with the top rating\n" +
      "--   PROCEDURE `sp_sup_best`(IN p_rating INT UNSIGNED)\n" +
      "--   BEDS replies with its first result set.",
  ));
  assert.ok(!/CREATE[^\n]*sp_sup_best/.test(sql));
});

Deno.test("generateMariadbDdl() output is idempotent DDL that splitSqlScript() loads statement by statement", () => {
  const statements = splitSqlScript(generateMariadbDdl(sup()).sql);
  assert.deepEqual(statements.map((s) => s.split("(")[0]!.split(" AS")[0]), [
    "CREATE TABLE IF NOT EXISTS `suppliers` ",
    "CREATE OR REPLACE VIEW `v_suppliers`",
    "CREATE OR REPLACE PROCEDURE `sp_sup_create`",
    "CREATE OR REPLACE PROCEDURE `sp_sup_update`",
    "CREATE OR REPLACE PROCEDURE `sp_sup_delete`",
  ]);
  for (const s of statements.slice(2)) assert.ok(s.endsWith("\nEND"), s);
});

Deno.test("generateMariadbDdl() maps each field type to its column type", async (t) => {
  const cases: Array<[string, string]> = [
    ['type = "string"', "`f`  TEXT NULL"],
    ['type = "string"\nmax_length = 20\nrequired = true', "`f`  VARCHAR(20) NOT NULL"],
    ['type = "string"\nrequired = true\nnullable = true', "`f`  TEXT NULL"],
    ['type = "int"', "`f`  INT NULL"],
    ['type = "int"\nmin = -5', "`f`  INT NULL"],
    ['type = "int"\nmin = 0', "`f`  INT UNSIGNED NULL"],
    ['type = "int"\nmin = 0\nmax = 9007199254740991', "`f`  BIGINT UNSIGNED NULL"],
    ['type = "number"', "`f`  DOUBLE NULL"],
    ['type = "decimal"', "`f`  DECIMAL(18,4) NULL"],
    ['type = "decimal"\nprecision = 10\nscale = 2', "`f`  DECIMAL(10,2) NULL"],
    ['type = "boolean"', "`f`  BOOLEAN NULL"],
    ['type = "date"', "`f`  DATE NULL"],
    ['type = "datetime"', "`f`  DATETIME(6) NULL"],
    ['type = "json"', "`f`  JSON NULL"],
  ];
  for (const [decl, column] of cases) {
    await t.step(decl.replaceAll("\n", ", "), () => {
      const sql = oneField(decl);
      assert.ok(sql.includes(`\n  ${column},\n`) || sql.includes(`\n  ${column}\n`), sql);
    });
  }
});

Deno.test("generateMariadbDdl() turns min, max and a numeric enum into CHECK constraints", async (t) => {
  await t.step("int enum", () => {
    assert.ok(
      oneField('type = "int"\nenum = [1, 2, 3]').includes("CONSTRAINT `ck_ones_f` CHECK (`f` IN (1, 2, 3))"),
    );
  });
  await t.step("number range", () => {
    assert.ok(oneField('type = "number"\nmin = 0.5\nmax = 2').includes("CHECK (`f` >= 0.5 AND `f` <= 2)"));
  });
  await t.step("UNSIGNED already holds min = 0", () => {
    assert.ok(!oneField('type = "int"\nmin = 0').includes("CONSTRAINT `ck_ones_f`"));
  });
  await t.step("no CHECK on the AUTO_INCREMENT key (MariaDB refuses it)", () => {
    assert.ok(!oneField('type = "int"').includes("`id` >= 1"));
  });
});

Deno.test("generateMariadbDdl() keys a row by a key passed to create instead of AUTO_INCREMENT", () => {
  const { sql } = generateMariadbDdl(compileTemplate(
    "cod.toml",
    `[template]
name = "cod"
store = "mariadb"
database = "lab"

[fields.code]
type = "string"
max_length = 8

[fields.label]
type = "string"

[ops.read]
view = "v_codes"
key = ["code"]

[ops.create]
procedure = "sp_cod_create"
params = ["code", "label"]
`,
  ));
  assert.ok(sql.includes("  `code`  VARCHAR(8) NOT NULL,\n"));
  assert.ok(!sql.includes("AUTO_INCREMENT"));
  assert.ok(sql.includes(
    "  IF EXISTS (SELECT 1 FROM `codes` WHERE `code` = p_code) THEN\n" +
      "    SIGNAL SQLSTATE '45409' SET MESSAGE_TEXT = 'cod already exists';",
  ));
  assert.ok(sql.includes("   WHERE `code` = p_code;\nEND$$"));
});

Deno.test("generateMariadbDdl() refuses what it cannot generate correctly, naming file and key", async (t) => {
  const base = `[template]
name = "bad"
store = "STORE"
database = "lab"

[fields.id]
type = "int"

[fields.name]
type = "string"
required = true
`;
  await t.step("a MongoDB template", () => {
    assert.equal(
      ddlError(base.replace('store = "STORE"', 'store = "mongodb"\ncollection = "bads"')),
      'Cannot generate DDL for template "bad" (bad.toml): template.store: is "mongodb", not "mariadb"',
    );
  });
  const maria = base.replace("STORE", "mariadb");
  await t.step("writes without a key", () => {
    assert.match(
      ddlError(`${maria}[ops.create]\nprocedure = "sp_c"\nparams = ["name"]\n`),
      /: ops\.read\.key: the procedures need a key/,
    );
  });
  await t.step("a required field that create does not pass", () => {
    assert.match(
      ddlError(
        `${maria}[ops.read]\nview = "v_b"\nkey = ["id"]\n[ops.create]\nprocedure = "sp_c"\nparams = []\n`,
      ),
      /: fields\.name\.required: "name" is required but ops\.create\.params does not pass it$/,
    );
  });
  await t.step("an update that does not pass its key", () => {
    assert.match(
      ddlError(
        `${maria}[ops.read]\nview = "v_b"\nkey = ["id"]\n[ops.update]\nprocedure = "sp_u"\nparams = ["name"]\n`,
      ),
      /: ops\.update\.params: must pass key field "id"$/,
    );
  });
  await t.step("a key MariaDB cannot index: unbounded text, or more than 768 characters in all", () => {
    const keyed = (decl: string) =>
      `${
        maria.replace('[fields.id]\ntype = "int"', `[fields.id]\n${decl}`)
      }[ops.read]\nview = "v_b"\nkey = ["id"]\n`;
    assert.match(ddlError(keyed('type = "string"')), /: fields\.id: key field "id" needs a max_length/);
    // A json key is refused before: a view read cannot match on one.
    assert.match(ddlError(keyed('type = "json"')), /: ops\.read\.key\.0: "id" is a json field/);
    assert.match(
      ddlError(keyed('type = "string"\nmax_length = 1000')),
      /: fields\.id\.max_length: the key's columns hold at most 768 characters together$/,
    );
    const two = `${
      maria.replace(
        '[fields.id]\ntype = "int"',
        '[fields.a]\ntype = "string"\nmax_length = 500\n[fields.b]\ntype = "string"\nmax_length = 500',
      )
    }[ops.read]\nview = "v_b"\nkey = ["a", "b"]\n`;
    assert.match(
      ddlError(two),
      /: fields\.b\.max_length: the key's columns hold at most 768 characters together$/,
    );
  });
  await t.step("enum values MariaDB's ENUM takes as one (trailing spaces, which it strips)", () => {
    assert.match(
      ddlError(`${maria}[fields.kind]\ntype = "string"\nenum = ["b ", "b"]\n`),
      /: fields\.kind\.enum\.0: "b " of field "kind" ends with a space, which MariaDB strips/,
    );
  });
  await t.step('a field named like a parameter ("p_")', () => {
    assert.match(
      ddlError(`${maria}[fields.p_x]\ntype = "int"\n`),
      /: fields\.p_x: a field name starting with "p_"/,
    );
  });
});

Deno.test("generateMariadbDdl() generates every MariaDB REC template of the repository", async () => {
  const recs = recTemplates(await loadTemplates(TEMPLATES_DIR)).filter((t) => t.store === "mariadb");
  assert.ok(recs.length >= 3);
  for (const t of recs) assert.match(generateMariadbDdl(t).sql, /CREATE TABLE IF NOT EXISTS/);
});

Deno.test("generateMariadbDdl() takes BIGINT when either bound is outside INT's range", async (t) => {
  const cases: Array<[string, string]> = [
    ['type = "int"\nmin = 1000000000000', "`f`  BIGINT UNSIGNED NULL"],
    ['type = "int"\nmin = 4294967296', "`f`  BIGINT UNSIGNED NULL"],
    ['type = "int"\nmin = 0\nmax = 4294967295', "`f`  INT UNSIGNED NULL"],
    ['type = "int"\nmax = -2147483649', "`f`  BIGINT NULL"],
    ['type = "int"\nmin = -2147483648\nmax = 2147483647', "`f`  INT NULL"],
    ['type = "int"\nmin = -2147483649', "`f`  BIGINT NULL"],
  ];
  for (const [decl, column] of cases) {
    await t.step(decl.replaceAll("\n", ", "), () => {
      const sql = oneField(decl);
      assert.ok(sql.includes(`\n  ${column},\n`), sql);
    });
  }
});

/** A template of an int key `id` and string fields `name = max_length` (`where` lists where fields). */
function strings(lengths: Record<string, number>, where: string[] = [], ops = ""): string {
  const fields = Object.entries(lengths)
    .map(([name, n]) => `[fields.${name}]\ntype = "string"\nmax_length = ${n}\n`).join("");
  return generateMariadbDdl(compileTemplate(
    "wide.toml",
    `[template]\nname = "wid"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\nmin = 1\n${fields}` +
      `[ops.read]\nview = "v_wides"\nkey = ["id"]\nwhere = ${JSON.stringify(where)}\n${ops}`,
  )).sql;
}

Deno.test("generateMariadbDdl() keeps strings within what MariaDB's VARCHAR and row hold", async (t) => {
  await t.step("beyond 16383 characters a VARCHAR cannot be: MEDIUMTEXT, then LONGTEXT", () => {
    const sql = strings(
      { big: 20000, huge: 5000000 },
      [],
      '[ops.create]\nprocedure = "sp_c"\nparams = ["big"]\n',
    );
    assert.ok(sql.includes("  `big`  MEDIUMTEXT NULL,\n"), sql);
    assert.ok(sql.includes("  `huge` LONGTEXT NULL,\n"), sql);
    assert.ok(
      sql.includes("  IN p_big MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci\n"),
      sql,
    );
  });
  await t.step("a row of exactly 65535 bytes keeps its VARCHAR, one byte more does not", () => {
    // 4 (id) + 4 * 16382 + 2 (length) + 1 (NULL bits) = 65535
    assert.ok(strings({ s: 16382 }).includes("  `s`  VARCHAR(16382) NULL,\n"));
    assert.ok(strings({ s: 16383 }).includes("  `s`  TEXT NULL,\n"));
  });
  await t.step("the largest VARCHARs become TEXT until the row fits, where fields last", () => {
    const sql = strings({ a: 5000, b: 4000, c: 5000, d: 6000, e: 3000 }, ["d"]);
    assert.ok(sql.includes("  `a`  TEXT NULL,\n"), sql);
    assert.ok(sql.includes("  `b`  VARCHAR(4000) NULL,\n"), sql);
    assert.ok(sql.includes("  `c`  TEXT NULL,\n"), sql);
    assert.ok(sql.includes("  `d`  VARCHAR(6000) NULL,\n"), sql);
    assert.ok(sql.includes("  `e`  VARCHAR(3000) NULL,\n"), sql);
    assert.ok(sql.includes("  KEY `ix_wides_d` (`d`)"), sql);
    assert.match(
      sql,
      /^-- a: TEXT, not VARCHAR\(5000\): the VARCHARs together exceed MariaDB's 65535-byte row\.$/m,
    );
  });
  await t.step("a where field made TEXT loses its index, and says so", () => {
    const sql = strings({ a: 16000, b: 16000 }, ["a", "b"]);
    assert.ok(sql.includes("  `a`  TEXT NULL,\n"), sql);
    assert.ok(sql.includes("  `b`  VARCHAR(16000) NULL,\n"), sql);
    assert.ok(!sql.includes("KEY `ix_wides_a`"), sql);
    assert.ok(sql.includes("KEY `ix_wides_b` (`b`)"), sql);
    assert.match(sql, /^-- a: TEXT, not VARCHAR\(16000\): .* \(so no index for its where\)\.$/m);
  });
  await t.step("a row over InnoDB's 8126 bytes in a page: short VARCHARs become TEXT too", () => {
    const short = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, 60]));
    // 4 (id) + 18 (header, transaction id, roll pointer) + 5 (NULL bits) + 33 × 241 + 145 = 8125
    const fits = strings({ ...short(33), t: 36 });
    assert.ok(!fits.includes(" TEXT NULL"), fits);
    const over = strings({ ...short(33), t: 37 });
    assert.equal(over.match(/ TEXT NULL/g)?.length, 1, over);
    assert.match(
      over,
      /^-- s0: TEXT, not VARCHAR\(60\): the VARCHARs together exceed InnoDB's 8126-byte row in a page\.$/m,
    );
  });
  await t.step("a row of fixed-size columns over a page is refused, naming the limit", () => {
    const fields = Array.from(
      { length: 280 },
      (_, i) => `[fields.d${i}]\ntype = "decimal"\nprecision = 65\nscale = 30\n`,
    );
    assert.throws(
      () =>
        generateMariadbDdl(compileTemplate(
          "dec.toml",
          `[template]\nname = "dec"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\n${
            fields.join("")
          }` +
            `[ops.read]\nview = "v_decs"\nkey = ["id"]\n`,
        )),
      /fields: the row needs \d+ bytes, more than InnoDB's 8126-byte row in a page, .*declare fewer fields/,
    );
  });
  await t.step("more than 1017 fields are refused: InnoDB creates no such table", () => {
    const table = (n: number) =>
      generateMariadbDdl(compileTemplate(
        "many.toml",
        `[template]\nname = "man"\nstore = "mariadb"\ndatabase = "lab"\n` +
          Array.from({ length: n }, (_, i) => `[fields.b${i}]\ntype = "boolean"\n`).join("") +
          `[ops.read]\nview = "v_many"\nkey = ["b0"]\n`,
      ));
    assert.ok(table(1017).sql.includes("`b1016`"));
    assert.throws(() => table(1018), /fields: 1018 fields, but an InnoDB table holds at most 1017 columns/);
  });
  await t.step("key columns stay VARCHARs", () => {
    const sql = strings(
      { a: 16000, b: 16000, c: 700 },
      [],
      '[ops.delete]\nprocedure = "sp_d"\nparams = ["c"]\nkey = ["c"]\n',
    );
    assert.ok(sql.includes("  `c`  VARCHAR(700) NULL,\n"), sql);
    assert.ok(sql.includes("  `a`  TEXT NULL,\n"), sql);
  });
});

Deno.test("generateMariadbDdl() gives an update or delete key other than the primary key a UNIQUE KEY", async (t) => {
  const keyed = (ops: string, fields = "") =>
    generateMariadbDdl(compileTemplate(
      "acc.toml",
      `[template]\nname = "acc"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\nmin = 1\n` +
        `[fields.code]\ntype = "string"\nmax_length = 20\n[fields.region]\ntype = "string"\nmax_length = 8\n` +
        `[fields.note]\ntype = "string"\nmax_length = 50\n${fields}` +
        `[ops.read]\nview = "v_accounts"\nkey = ["id"]\nwhere = ["code", "region", "note"]\n${ops}`,
    )).sql;
  await t.step("one UNIQUE KEY for a key update and delete share; no second index on its column", () => {
    const sql = keyed(
      '[ops.update]\nprocedure = "sp_u"\nparams = ["code", "note"]\nkey = ["code"]\n' +
        '[ops.delete]\nprocedure = "sp_d"\nparams = ["code"]\nkey = ["code"]\n',
    );
    assert.ok(sql.includes("  PRIMARY KEY (`id`),\n  UNIQUE KEY `uk_accounts_code` (`code`),\n"), sql);
    assert.equal(sql.match(/UNIQUE KEY/g)?.length, 1);
    assert.ok(!sql.includes("`ix_accounts_code`"), sql);
    assert.ok(sql.includes("KEY `ix_accounts_region` (`region`)"), sql);
  });
  await t.step("a key of two fields", () => {
    const sql = keyed(
      '[ops.update]\nprocedure = "sp_u"\nparams = ["code", "region", "note"]\nkey = ["code", "region"]\n',
    );
    assert.ok(sql.includes("  UNIQUE KEY `uk_accounts_code_region` (`code`, `region`),\n"), sql);
  });
  await t.step("a key that holds another op's key is unique already", () => {
    const sql = keyed(
      '[ops.update]\nprocedure = "sp_u"\nparams = ["code", "region", "note"]\nkey = ["code", "region"]\n' +
        '[ops.delete]\nprocedure = "sp_d"\nparams = ["region"]\nkey = ["region"]\n',
    );
    assert.ok(sql.includes("  UNIQUE KEY `uk_accounts_region` (`region`),\n"), sql);
    assert.equal(sql.match(/UNIQUE KEY/g)?.length, 1, sql);
  });
  await t.step("a key that holds the primary key needs none", () => {
    const sql = keyed('[ops.delete]\nprocedure = "sp_d"\nparams = ["id", "code"]\nkey = ["code", "id"]\n');
    assert.ok(!sql.includes("UNIQUE KEY"), sql);
  });
  await t.step("the key-length checks hold for it too", () => {
    assert.match(
      ddlError(
        `[template]\nname = "acc"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\n` +
          `[fields.code]\ntype = "string"\n[fields.note]\ntype = "string"\n` +
          `[ops.read]\nview = "v_accounts"\nkey = ["id"]\n` +
          `[ops.update]\nprocedure = "sp_u"\nparams = ["code", "note"]\nkey = ["code"]\n`,
      ),
      /: fields\.code: key field "code" needs a max_length of at most 768 to be a key column$/,
    );
    assert.match(
      ddlError(
        `[template]\nname = "acc"\nstore = "mariadb"\ndatabase = "lab"\n[fields.id]\ntype = "int"\n` +
          `[fields.code]\ntype = "string"\nmax_length = 800\n[fields.note]\ntype = "string"\n` +
          `[ops.read]\nview = "v_accounts"\nkey = ["id"]\n` +
          `[ops.delete]\nprocedure = "sp_d"\nparams = ["code"]\nkey = ["code"]\n`,
      ),
      /: fields\.code\.max_length: ops\.delete\.key's columns hold at most 768 characters together$/,
    );
  });
});

Deno.test("generateMariadbDdl() indexes a field listed twice in where once", () => {
  const sql = strings({ a: 10 }, ["a", "a"]);
  assert.equal(sql.match(/KEY `ix_wides_a`/g)?.length, 1, sql);
});

Deno.test("generateMariadbDdl() gives ENUMs a binary collation: values the template tells apart stay apart", async (t) => {
  // The values, and the characters of the longest (an emoji is one).
  const cases: Array<[string[], number]> = [
    [["cafe", "café"], 4],
    [["Red", "red"], 3],
    [["😀", "😢"], 1],
    [["b", "b\t"], 2],
  ];
  for (const [values, longest] of cases) {
    await t.step(JSON.stringify(values), () => {
      const sql = oneField(
        `type = "string"\nenum = ${JSON.stringify(values)}`,
        '[ops.create]\nprocedure = "sp_c"\nparams = ["f"]\n',
      );
      const bin = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
      assert.ok(
        sql.includes(`\n  \`f\`  ENUM(${values.map((v) => `'${v}'`).join(",")}) ${bin} NULL,\n`),
        sql,
      );
      // The procedure's check compares as the column does.
      assert.ok(sql.includes(`\n  IN p_f VARCHAR(${longest}) ${bin}\n`), sql);
    });
  }
});

Deno.test("generateMariadbDdl() indexes where fields up to MariaDB's 64 keys and names the others", async (t) => {
  const where = (n: number, ops = "") =>
    strings(
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`w${i}`, 10])),
      Array.from({ length: n }, (_, i) => `w${i}`),
      ops,
    );
  await t.step("the primary key and 63 KEYs: every where field keeps its index", () => {
    const sql = where(63);
    assert.equal(sql.match(/^ {2}KEY /gm)?.length, 63, sql);
    assert.ok(!sql.includes("no index for their where"), sql);
  });
  await t.step("70 where fields: the last 7 go without, named in a comment", () => {
    const sql = where(70);
    assert.equal(sql.match(/^ {2}KEY /gm)?.length, 63, sql);
    assert.ok(sql.includes("KEY `ix_wides_w62` (`w62`)"), sql);
    assert.ok(!sql.includes("`ix_wides_w63`"), sql);
    assert.match(
      sql,
      /^-- w63, w64, w65, w66, w67, w68, w69: no index for their where: a table holds at most 64 keys, PRIMARY and UNIQUE included; .*\.$/m,
    );
  });
  await t.step("a UNIQUE key takes one of the 64", () => {
    const sql = where(70, '[ops.delete]\nprocedure = "sp_d"\nparams = ["w0"]\nkey = ["w0"]\n');
    // w0 leads the UNIQUE key, so needs no KEY of its own: w1 … w62 do.
    assert.equal(sql.match(/^ {2}KEY /gm)?.length, 62, sql);
    assert.match(sql, /^-- w63, .*, w69: no index for their where/m);
  });
});

Deno.test("generateMariadbDdl() shortens a long name with a hash of it, so that names stay distinct", () => {
  const long = "f".repeat(61);
  const sql = strings({ [`${long}_aa`]: 10, [`${long}_bb`]: 10, short: 10 }, [
    `${long}_aa`,
    `${long}_bb`,
    "short",
  ]);
  const names = [...sql.matchAll(/^ {2}KEY `([^`]+)`/gm)].map((m) => m[1]!);
  assert.equal(names.length, 3, sql);
  assert.equal(new Set(names).size, 3, names.join());
  for (const name of names.slice(0, 2)) assert.match(name, new RegExp(`^ix_${"f".repeat(52)}_[0-9a-f]{8}$`));
  // Names that fit stay as they were; the hash is the same on every run.
  assert.equal(names[2], "ix_wides_short");
  assert.deepEqual(
    [...strings({ [`${long}_aa`]: 10 }, [`${long}_aa`]).matchAll(/^ {2}KEY `([^`]+)`/gm)].map((m) => m[1]),
    names.slice(0, 1),
  );
});

Deno.test("generateMariadbDdl() cuts comments to what MariaDB takes, ending with an ellipsis", async (t) => {
  const described = (text: string) => oneField(`type = "int"\ndescription = ${JSON.stringify(text)}`);
  const comment = (sql: string) => sql.match(/^ {2}`f` .* COMMENT '(.*)',$/m)?.[1];
  await t.step("a column's 1,024 characters are kept whole", () => {
    assert.equal(comment(described("é".repeat(1024))), "é".repeat(1024));
  });
  await t.step("beyond them, 1,023 and an ellipsis; an emoji counts as one character", () => {
    assert.equal(comment(described("a".repeat(1025))), `${"a".repeat(1023)}…`);
    assert.equal(comment(described("😀".repeat(1100))), `${"😀".repeat(1023)}…`);
  });
  await t.step("quotes and backslashes stay escaped", () => {
    assert.equal(comment(described(`it's a \\ "${"x".repeat(1030)}`)), `it''s a \\\\ "${"x".repeat(1013)}…`);
  });
  await t.step("a table's 2,048 characters", () => {
    const table = (text: string) =>
      generateMariadbDdl(compileTemplate(
        "t.toml",
        `[template]\nname = "tbl"\ndescription = "${text}"\nstore = "mariadb"\ndatabase = "lab"\n` +
          `[fields.id]\ntype = "int"\n[ops.read]\nview = "v_tbls"\nkey = ["id"]\n`,
      )).sql.match(/^ {2}COMMENT='(.*)';$/m)?.[1];
    assert.equal(table("t".repeat(2048)), "t".repeat(2048));
    assert.equal(table("t".repeat(2049)), `${"t".repeat(2047)}…`);
  });
});
