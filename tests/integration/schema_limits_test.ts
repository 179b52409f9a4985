import assert from "node:assert/strict";
import type { Connection } from "mariadb";
import { connectLabSchema, dropSchema, loadLabSchema } from "../../lab/db.ts";
import { generateMariadbDdl } from "../../src/adapters/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";
import { uniqueId } from "../helpers/services.ts";
import type { Row } from "../helpers/replies.ts";

/** A MariaDB REC template `name` of an int key `id`, the given fields and ops (TOML). */
function template(name: string, fields: string, ops: string): string {
  return `[template]\nname = "${name}"\nstore = "mariadb"\ndatabase = "lab"\n` +
    `[fields.id]\ntype = "int"\nmin = 1\n${fields}${ops}`;
}

/** Strings that need escaping in SQL, or that a script loader could take for its own syntax. */
const AWKWARD = ["it's", "back\\slash", 'say "hi"', "a$$b", "two\nlines", "semi;colon", "-- not a comment"];

/** Characters utf8mb4_unicode_ci weighs as equal (case, accents, emoji), and the awkward ones. */
const ENUM_TEMPLATE = template(
  "enu",
  `[fields.word]\ntype = "string"\ndescription = ${JSON.stringify(AWKWARD.join(" | "))}\n` +
    `enum = ["cafe", "café", "Cafe"]\n` +
    `[fields.mood]\ntype = "string"\nenum = ["😀", "😢"]\n` +
    `[fields.odd]\ntype = "string"\nenum = ${JSON.stringify(AWKWARD)}\n`,
  `[ops.read]\nview = "v_enus"\nkey = ["id"]\nwhere = ["word", "mood", "odd"]\n` +
    `[ops.create]\nprocedure = "sp_enu_create"\nparams = ["word", "mood", "odd"]\n`,
);

/** 70 where fields: an index each would be 71 keys with the primary key. */
const WHERE_FIELDS = Array.from({ length: 70 }, (_, i) => `w${String(i).padStart(2, "0")}`);
const MANY_WHERE_TEMPLATE = template(
  "mwh",
  WHERE_FIELDS.map((f) => `[fields.${f}]\ntype = "int"\n`).join(""),
  `[ops.read]\nview = "v_many_wheres"\nkey = ["id"]\nwhere = ${JSON.stringify(WHERE_FIELDS)}\n`,
);

/**
 * 64-character field names sharing their first 61 characters: in two indexes and two CHECKs, and
 * one leads two UNIQUE keys (update's and delete's).
 */
const LONG_A = "measured_".repeat(7).slice(0, 61) + "_aa";
const LONG_B = LONG_A.slice(0, 61) + "_bb";
const LONG_C = LONG_A.slice(0, 61) + "_cc";
const LONG_NAMES_TEMPLATE = template(
  "lng",
  [LONG_A, LONG_B].map((f) => `[fields.${f}]\ntype = "int"\nmin = 1\nmax = 9\n`).join("") +
    [LONG_C, "code", "region", "note"].map((f) => `[fields.${f}]\ntype = "string"\nmax_length = 20\n`).join(
      "",
    ),
  `[ops.read]\nview = "v_long_names"\nkey = ["id"]\nwhere = ["${LONG_A}", "${LONG_B}"]\n` +
    `[ops.update]\nprocedure = "sp_lng_update"\nparams = ["${LONG_C}", "code", "note"]\nkey = ["${LONG_C}", "code"]\n` +
    `[ops.delete]\nprocedure = "sp_lng_delete"\nparams = ["${LONG_C}", "region"]\nkey = ["${LONG_C}", "region"]\n`,
);

/** Descriptions longer than MariaDB keeps: 1,024 characters for a column, 2,048 for a table. */
const LONG_COLUMN_COMMENT = "ü".repeat(600) + "😀".repeat(600);
const LONG_COMMENT_TEMPLATE = template(
  "cmt",
  `[fields.f]\ntype = "string"\nmax_length = 10\ndescription = ${JSON.stringify(LONG_COLUMN_COMMENT)}\n`,
  `[ops.read]\nview = "v_comments"\nkey = ["id"]\n`,
).replace('database = "lab"', `database = "lab"\ndescription = "${"t".repeat(2100)}"`);

Deno.test("generated DDL loads where MariaDB's limits on ENUMs, keys, names and comments bite", async (t) => {
  const schema = `beds_t_${uniqueId()}`;
  const dirs: string[] = [];
  /** Generates `text`'s DDL and loads it into the test's schema; the number of statements run. */
  const load = async (text: string) => {
    const dir = await Deno.makeTempDir({ prefix: "beds_sql_" });
    dirs.push(dir);
    await Deno.writeTextFile(`${dir}/010.sql`, generateMariadbDdl(compileTemplate("lim_rec.toml", text)).sql);
    return (await loadLabSchema({ schema, dir })).statements;
  };
  let conn: Connection | undefined;
  const query = async (sql: string, values?: unknown[]): Promise<Row[]> => {
    conn ??= await connectLabSchema({ schema });
    return await conn.query(sql, values);
  };
  try {
    await t.step(
      "ENUM values that differ by case, accents or emoji stay apart (error 1291 before)",
      async () => {
        assert.equal(await load(ENUM_TEMPLATE), 3);
        const values = [
          ["cafe", "😀", AWKWARD[0]],
          ["café", "😢", AWKWARD[1]],
          ...AWKWARD.slice(2).map((odd) => ["Cafe", "😀", odd]),
        ];
        for (const row of values) await query("CALL sp_enu_create(?, ?, ?)", row);
        const rows = await query("SELECT word, mood, odd FROM v_enus ORDER BY id");
        assert.deepEqual(rows.map((r) => [r.word, r.mood, r.odd]), values);
        const cafe = await query("SELECT id FROM v_enus WHERE word = ?", ["cafe"]);
        assert.deepEqual(cafe.map((r) => r.id), [1]);
        assert.equal((await query("SELECT id FROM v_enus WHERE mood = ?", ["😢"])).length, 1);
        // The procedure's own check compares as the column does: a value the template lacks is 45000.
        await assert.rejects(() => query("CALL sp_enu_create('CAFE', NULL, NULL)"), /invalid enu word/);
        await assert.rejects(() => query("CALL sp_enu_create('cafè', NULL, NULL)"), /invalid enu word/);
        const [comment] = await query(
          "SELECT column_comment AS c FROM information_schema.columns " +
            "WHERE table_schema = ? AND table_name = 'enus' AND column_name = 'word'",
          [schema],
        );
        assert.equal(comment!.c, AWKWARD.join(" | "));
      },
    );

    await t.step("70 where fields get indexes up to MariaDB's 64 keys (error 1069 before)", async () => {
      assert.equal(await load(MANY_WHERE_TEMPLATE), 2);
      const [keys] = await query(
        "SELECT COUNT(DISTINCT index_name) AS n FROM information_schema.statistics " +
          "WHERE table_schema = ? AND table_name = 'many_wheres'",
        [schema],
      );
      assert.equal(Number(keys!.n), 64);
    });

    await t.step("shortened names of long fields stay distinct (error 1061 before)", async () => {
      assert.equal(await load(LONG_NAMES_TEMPLATE), 4);
      const names = await query(
        "SELECT DISTINCT index_name AS n FROM information_schema.statistics " +
          "WHERE table_schema = ? AND table_name = 'long_names' ORDER BY index_name",
        [schema],
      );
      // PRIMARY, the two UNIQUE keys and the two where fields' KEYs.
      assert.equal(names.length, 5, JSON.stringify(names));
      const checks = await query(
        "SELECT constraint_name AS n FROM information_schema.check_constraints " +
          "WHERE constraint_schema = ? AND table_name = 'long_names'",
        [schema],
      );
      assert.equal(checks.length, 2, JSON.stringify(checks));
    });

    await t.step("descriptions are cut to MariaDB's comment lengths (error 1629 before)", async () => {
      assert.equal(await load(LONG_COMMENT_TEMPLATE), 2);
      const [column] = await query(
        "SELECT CHAR_LENGTH(column_comment) AS n, column_comment AS c FROM information_schema.columns " +
          "WHERE table_schema = ? AND table_name = 'comments' AND column_name = 'f'",
        [schema],
      );
      assert.equal(Number(column!.n), 1024);
      // utf8mb3, the catalog's character set, keeps an emoji as "?".
      assert.equal(column!.c, "ü".repeat(600) + "?".repeat(423) + "…");
      const [table] = await query(
        "SELECT table_comment AS c FROM information_schema.tables WHERE table_schema = ? AND table_name = 'comments'",
        [schema],
      );
      assert.equal(table!.c, "t".repeat(2047) + "…");
    });
  } finally {
    await conn?.end();
    await dropSchema({ schema });
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
