/**
 * Generated DDL that loaded but then refused or confused values its template accepts: rows InnoDB
 * cannot keep in a page, datetimes cut to milliseconds, emoji taken for one another, ENUM values
 * stripped of trailing spaces. tests/integration/schema_edges_test.ts loads the same into MariaDB.
 */
import assert from "node:assert/strict";
import { generateMariadbDdl } from "../../src/adapters/mod.ts";
import { TemplateError } from "../../src/errors.ts";
import { compileTemplate } from "../../src/templates/mod.ts";

/** A MariaDB REC template `edg` of the given fields (TOML) and ops. */
function ddl(fields: string, ops = '[ops.read]\nview = "v_edges"\nkey = ["id"]\n'): string {
  return generateMariadbDdl(compileTemplate(
    "edg_rec.toml",
    `[template]\nname = "edg"\nstore = "mariadb"\ndatabase = "lab"\n${fields}${ops}`,
  )).sql;
}

function ddlError(fields: string, ops?: string): string {
  try {
    ddl(fields, ops);
  } catch (error) {
    assert.ok(error instanceof TemplateError, String(error));
    return error.message;
  }
  assert.fail("expected a TemplateError");
}

/** `n` nullable string fields s1…sn, of `max_length` when given. */
function strings(n: number, maxLength?: number): string {
  const length = maxLength === undefined ? "" : `max_length = ${maxLength}\n`;
  return Array.from(
    { length: n },
    (_, i) => `[fields.s${i + 1}]\ntype = "string"\nnullable = true\n${length}`,
  )
    .join("");
}

const ID = '[fields.id]\ntype = "int"\nmin = 1\n';
const PAGE = /: fields: the row needs \d+ bytes, more than InnoDB's 8126-byte row in a page, /;

Deno.test("generateMariadbDdl() counts 41 bytes in the page for each string InnoDB may move off it", async (t) => {
  // InnoDB moves no value of 40 bytes or fewer off the page: with its length byte it keeps 41 there.
  await t.step("4 (id) + 18 + 25 (NULL bits) + 197 × 41 + 1 (boolean) = 8125: generated", () => {
    assert.match(
      ddl(`${ID}${strings(197, 100)}[fields.b]\ntype = "boolean"\n`),
      /`s197` +VARCHAR\(100\) NULL/,
    );
  });
  await t.step("a date instead of the boolean, 8127 bytes: refused, saying how strings count", () => {
    assert.match(
      ddlError(`${ID}${strings(197, 100)}[fields.d]\ntype = "date"\n`),
      /declare fewer fields \(it counts .* any other string or json up to 41 bytes: InnoDB keeps a value of up to 40/,
    );
  });
  await t.step("200 strings of max_length 100 (each 40 bytes once, DB_ERROR 1118): refused", () => {
    assert.match(ddlError(`${ID}${strings(200, 100)}`), PAGE);
  });
  await t.step("json and unbounded strings count alike", () => {
    const json = Array.from({ length: 10 }, (_, i) => `[fields.j${i}]\ntype = "json"\nnullable = true\n`);
    assert.match(ddl(`${ID}${strings(187)}${json.join("")}`), /`j9` +JSON NULL/);
    assert.match(ddlError(`${ID}${strings(188)}${json.join("")}`), PAGE);
  });
});

Deno.test("generateMariadbDdl() counts the primary key's VARCHARs whole in the page", async (t) => {
  const key = '[fields.code]\ntype = "string"\nmax_length = 100\n';
  const ops = '[ops.read]\nview = "v_edges"\nkey = ["code"]\n';
  await t.step("18 + 402 (code) + 24 (NULL bits) + 187 × 41 = 8111: generated", () => {
    assert.match(ddl(`${key}${strings(187)}`, ops), /`code` +VARCHAR\(100\) NOT NULL/);
  });
  await t.step("one string more, 8152 bytes: refused, naming the key field to shorten", () => {
    const message = ddlError(`${key}${strings(188)}`, ops);
    assert.match(message, PAGE);
    assert.match(message, /shorten the max_length of code or declare fewer fields/);
  });
});

Deno.test("generateMariadbDdl() keeps a datetime's microseconds, in the column and every parameter", () => {
  const sql = ddl(
    `${ID}[fields.at]\ntype = "datetime"\n`,
    '[ops.read]\nview = "v_edges"\nkey = ["id"]\n' +
      '[ops.create]\nprocedure = "sp_c"\nparams = ["at"]\n' +
      '[ops.update]\nprocedure = "sp_u"\nparams = ["id", "at"]\n' +
      '[ops.delete]\nprocedure = "sp_d"\nparams = ["id", "at"]\n' +
      '[calls.near]\nprocedure = "sp_near"\nparams = ["at"]\n',
  );
  assert.match(sql, /^ {2}`at` DATETIME\(6\) NULL,$/m);
  assert.equal(sql.match(/ p_at DATETIME\(6\)/g)?.length, 4, sql);
  assert.ok(!sql.includes("DATETIME(3)"), sql);
});

Deno.test("generateMariadbDdl() compares text in a collation that tells emoji apart", () => {
  const sql = ddl(
    `${ID}[fields.tag]\ntype = "string"\nmax_length = 10\n[fields.note]\ntype = "string"\n`,
    '[ops.read]\nview = "v_edges"\nkey = ["id"]\nwhere = ["tag"]\n' +
      '[ops.create]\nprocedure = "sp_c"\nparams = ["tag", "note"]\n',
  );
  // The columns take the table's collation; the parameters compared with them declare the same.
  assert.ok(sql.includes(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci\n"), sql);
  assert.ok(
    sql.includes("  IN p_tag  VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci,\n"),
    sql,
  );
  assert.ok(sql.includes("  IN p_note TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci\n"), sql);
  assert.ok(!sql.includes("utf8mb4_unicode_ci"), sql);
});

Deno.test("generateMariadbDdl() refuses an enum value ending in a space, which MariaDB would strip", async (t) => {
  for (const values of [["a ", "b"], ["a", "b  "], ["😀 "]]) {
    await t.step(JSON.stringify(values), () => {
      const i = values.findIndex((v) => v.endsWith(" "));
      assert.match(
        ddlError(`${ID}[fields.kind]\ntype = "string"\nenum = ${JSON.stringify(values)}\n`),
        new RegExp(
          `: fields\\.kind\\.enum\\.${i}: "${
            values[i]
          }" of field "kind" ends with a space, which MariaDB strips`,
        ),
      );
    });
  }
  await t.step("leading spaces and other trailing whitespace MariaDB keeps: generated", () => {
    assert.match(
      ddl(`${ID}[fields.kind]\ntype = "string"\nenum = [" a", "b\\t"]\n`),
      /ENUM\(' a','b\t'\)/,
    );
  });
});
