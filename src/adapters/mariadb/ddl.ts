/**
 * Generates, from a MariaDB REC template, the DDL a DBA reviews and then
 * owns: the base table, the read view and the create/update/delete
 * procedures, following the conventions of the lab schema (parameters
 * `p_<field>` in the template's order, the affected row returned as one
 * result set from the view, SQLSTATE 45404/45409/45000). Named calls and
 * read procedures are listed with their expected signature only: their
 * logic is not in the template. Pure: text in, text out.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RecTemplate } from "../../templates/mod.ts";
import {
  checkCondition,
  columnType,
  commentLiteral,
  commentText,
  ident,
  indexable,
  isStringEnum,
  TEXT_COLLATION,
  uncheckedNotes,
} from "./ddl_columns.ts";
import {
  createDdl,
  type DdlPlan,
  deleteDdl,
  fieldOf,
  handWritten,
  opKey,
  updateDdl,
} from "./ddl_routines.ts";
import { checkKeyColumns, fail, notNull, rowFit } from "./ddl_limits.ts";

/** What the generator derived besides the SQL text. */
export interface MariadbDdl {
  /** The script: load with the `mariadb` client or lab/db.ts. */
  sql: string;
  /** The generated base table. */
  table: string;
  /** The generated read view, when the template reads a view. */
  view?: string;
}

/** InnoDB's limit on a table's columns (errno 185 "Too many columns" beyond). */
const MAX_COLUMNS = 1017;
/** MariaDB's limit on a table's keys, PRIMARY and UNIQUE included (error 1069 beyond). */
const MAX_KEYS = 64;
/** MariaDB's limit on an identifier's characters. */
const MAX_NAME = 64;
/** MariaDB's limits on a column's and a table's comment, in characters (errors 1629, 1628 beyond). */
const MAX_COLUMN_COMMENT = 1024;
const MAX_TABLE_COMMENT = 2048;

const RULE = `-- ${"=".repeat(77)}`;

/** The base table: the view's name without `v_`, else the template's name. */
function tableName(t: RecTemplate): string {
  const view = t.ops.read?.view;
  if (view && /^v_./i.test(view)) return view.slice(2);
  return view === t.name ? `${t.name}_data` : t.name;
}

/**
 * A constraint or index name within MariaDB's 64 characters: without the table's name when too long
 * (names are per table), and when still too long, cut and ended with a hash of the full name, so that
 * fields sharing their first characters keep distinct names (error 1061 otherwise) that stay the same
 * from one run to the next.
 */
function objectName(prefix: string, table: string, field: string): string {
  const full = `${prefix}_${table}_${field}`;
  if (full.length <= MAX_NAME) return full;
  const short = `${prefix}_${field}`;
  if (short.length <= MAX_NAME) return short;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${short.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

function plan(t: RecTemplate): DdlPlan {
  if (t.store !== "mariadb") fail(t, "template.store", `is "${t.store}", not "mariadb"`);
  const { ops } = t;
  const columns = Object.keys(t.fields);
  if (columns.length > MAX_COLUMNS) {
    fail(t, "fields", `${columns.length} fields, but an InnoDB table holds at most ${MAX_COLUMNS} columns`);
  }
  for (const name of columns) {
    if (name.startsWith("p_")) {
      fail(t, `fields.${name}`, 'a field name starting with "p_" clashes with parameter names');
    }
  }
  for (const op of ["create", "update", "delete"] as const) {
    if (ops[op] && !ops[op].procedure) fail(t, `ops.${op}.procedure`, "missing required value");
  }
  const key = ops.read?.key ?? ops.update?.key ?? ops.delete?.key ?? [];
  if (!key.length && (ops.create || ops.update || ops.delete)) {
    fail(t, "ops.read.key", "the procedures need a key to find the affected row; declare one");
  }
  checkKeyColumns(t, key, "the key's");
  const unique = opUniqueKeys(t, key);
  for (const { op, fields } of unique) checkKeyColumns(t, fields, `ops.${op}.key's`);
  const uniqueKeys = unique.map((u) => u.fields);
  for (const [name, spec] of Object.entries(t.fields)) {
    // An ENUM column's binary collation (ENUM_CHARSET) tells apart what the template does, but
    // MariaDB strips trailing spaces from ENUM values: it would store "a " as "a", which the template
    // then refuses on read, and take "a " and "a" as one value (error 1291).
    for (const [i, value] of (isStringEnum(spec) ? spec.enum! : []).entries()) {
      if (String(value).endsWith(" ")) {
        fail(
          t,
          `fields.${name}.enum.${i}`,
          `"${value}" of field "${name}" ends with a space, which MariaDB strips from ENUM values; remove it`,
        );
      }
    }
  }
  const only = key.length === 1 ? key[0]! : undefined;
  const autoKey = only && t.fields[only]!.type === "int" && !ops.create?.params.includes(only)
    ? only
    : undefined;
  if (ops.create) {
    for (const field of key) {
      if (field !== autoKey && !ops.create.params.includes(field)) {
        fail(
          t,
          "ops.create.params",
          `must pass key field "${field}" (only a single int key is assigned by the database)`,
        );
      }
    }
    for (const [name, spec] of Object.entries(t.fields)) {
      if (spec.required && !spec.nullable && name !== autoKey && !ops.create.params.includes(name)) {
        fail(t, `fields.${name}.required`, `"${name}" is required but ops.create.params does not pass it`);
      }
    }
  }
  for (const op of ["update", "delete"] as const) {
    const spec = ops[op];
    for (const field of spec ? opKey(spec, key) : []) {
      if (!spec!.params.includes(field)) fail(t, `ops.${op}.params`, `must pass key field "${field}"`);
    }
  }
  if (ops.update && !ops.update.params.some((p) => !opKey(ops.update!, key).includes(p))) {
    fail(t, "ops.update.params", "passes no field besides the key, so there is nothing to update");
  }
  const table = tableName(t);
  const asText = rowFit(t, columns, key, uniqueKeys);
  return { t, table, source: ops.read?.view ?? table, key, autoKey, columns, uniqueKeys, asText };
}

/**
 * The update and delete keys that need a UNIQUE KEY: without one, two rows may share such a key and
 * one update or delete changes both. A key holding the whole primary key, or another of these
 * keys, is unique already.
 */
function opUniqueKeys(
  t: RecTemplate,
  primary: readonly string[],
): Array<{ op: "update" | "delete"; fields: readonly string[] }> {
  const keys: Array<{ op: "update" | "delete"; fields: readonly string[] }> = [];
  const covers = (fields: readonly string[], unique: readonly string[]) =>
    unique.length > 0 && unique.every((f) => fields.includes(f));
  const candidates = (["update", "delete"] as const).flatMap((op) => {
    const fields = t.ops[op]?.key;
    return fields?.length ? [{ op, fields }] : [];
  });
  // The narrowest first, so that a wider key holding it is seen as unique already.
  for (const c of candidates.sort((a, b) => a.fields.length - b.fields.length)) {
    if (covers(c.fields, primary) || keys.some((k) => covers(c.fields, k.fields))) continue;
    keys.push(c);
  }
  return keys;
}

function header(p: DdlPlan): string[] {
  const { t } = p;
  return [
    RULE,
    `-- Template "${t.name}"${t.description ? `: ${commentText(t.description)}` : ""}`,
    `-- Generated from ${t.file} by \`beds schema generate ${t.name}\`.`,
    "--",
    "-- A starting point that the DBA reviews and then owns. The template knows field",
    "-- types and constraints, not the domain: add UNIQUE keys for natural keys,",
    "-- foreign keys, column defaults and further indexes as the domain needs.",
    "--",
    "-- Conventions (as lab/sql/003_procedures.sql): parameters are p_<field>, in",
    "-- the template's params order; each procedure returns the affected row as ONE",
    `-- result set from ${p.source}; SIGNAL SQLSTATE 45404 = row not found,`,
    "-- 45409 = conflict, 45000 = validation; constraint violations keep MariaDB's",
    "-- natural errors (1062 duplicate key, 4025 CHECK constraint failed).",
    "--",
    "-- Schema-agnostic and idempotent (CREATE TABLE IF NOT EXISTS, CREATE OR",
    "-- REPLACE VIEW / PROCEDURE). Uses DELIMITER, so both `mariadb SCHEMA < FILE`",
    "-- and lab/db.ts load it. Changing an existing table needs an ALTER.",
    RULE,
    "",
  ];
}

function tableDdl(p: DdlPlan): string[] {
  const { t, table, key, autoKey } = p;
  const width = Math.max(...p.columns.map((c) => ident(c).length));
  const defs = p.columns.map((name) => {
    const f = fieldOf(p, name);
    const required = key.includes(name) || notNull(t, name);
    const type = p.asText.has(name) ? "TEXT" : columnType(f);
    let def = `  ${ident(name).padEnd(width)} ${type} ${required ? "NOT NULL" : "NULL"}`;
    if (name === autoKey) def += " AUTO_INCREMENT";
    if (f.description) def += ` COMMENT ${commentLiteral(f.description, MAX_COLUMN_COMMENT)}`;
    return def;
  });
  if (key.length) defs.push(`  PRIMARY KEY (${key.map(ident).join(", ")})`);
  for (const fields of p.uniqueKeys) {
    defs.push(
      `  UNIQUE KEY ${ident(objectName("uk", table, fields.join("_")))} (${fields.map(ident).join(", ")})`,
    );
  }
  // A key's first column is indexed by that key already.
  const leading = new Set([key[0], ...p.uniqueKeys.map((k) => k[0])]);
  const indexed = [...new Set(p.t.ops.read?.where ?? [])].filter((name) => {
    const f = fieldOf(p, name);
    return !leading.has(name) && indexable(f) && !p.asText.has(name) && f.type !== "boolean";
  });
  // Past MariaDB's 64 keys the where fields listed last go without an index, named in a comment,
  // rather than the template being refused: unlike a key, a where index is the draft's guess, not
  // what BEDS needs to serve the template, and a DBA would rather pick which of so many filters
  // deserve one (or a composite index) than not get the table.
  const room = MAX_KEYS - (key.length ? 1 : 0) - p.uniqueKeys.length;
  for (const name of indexed.slice(0, room)) {
    defs.push(`  KEY ${ident(objectName("ix", table, name))} (${ident(name)})`);
  }
  const unindexed = indexed.slice(room);
  for (const name of p.columns) {
    const condition = checkCondition(name, fieldOf(p, name), name === autoKey);
    if (condition) defs.push(`  CONSTRAINT ${ident(objectName("ck", table, name))} CHECK (${condition})`);
  }
  const notes = [
    ...p.columns.flatMap((name) => uncheckedNotes(name, fieldOf(p, name))),
    ...[...p.asText].map(([name, limit]) =>
      `${name}: TEXT, not ${columnType(fieldOf(p, name))}: the VARCHARs together exceed ${limit}` +
      (p.t.ops.read?.where.includes(name) ? " (so no index for its where)" : "")
    ),
    ...(unindexed.length
      ? [
        `${unindexed.join(", ")}: no index for their where: a table holds at most ${MAX_KEYS} keys, ` +
        "PRIMARY and UNIQUE included; index the filters queries use most",
      ]
      : []),
  ];
  return [
    `-- ${table}: the records of template "${t.name}", one column per template field.`,
    ...(key.length ? [] : ["-- The template declares no key: add a PRIMARY KEY."]),
    ...notes.map((n) => `-- ${n}.`),
    `CREATE TABLE IF NOT EXISTS ${ident(table)} (`,
    defs.join(",\n"),
    `) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${TEXT_COLLATION}`,
    `  COMMENT=${commentLiteral(t.description || `Template "${t.name}"`, MAX_TABLE_COMMENT)};`,
    "",
  ];
}

function viewDdl(p: DdlPlan): string[] {
  const view = p.t.ops.read?.view;
  if (!view) return [];
  return [
    `-- ${view}: the read view of template "${p.t.name}" (ops.read.view), one row per`,
    `-- record with every template field. BEDS needs SELECT on the view only.`,
    `CREATE OR REPLACE VIEW ${ident(view)} AS`,
    `SELECT ${p.columns.map(ident).join(",\n       ")}`,
    `  FROM ${ident(p.table)};`,
    "",
  ];
}

/**
 * Generates the MariaDB DDL of a REC template.
 * @throws {TemplateError} naming the key when the template cannot be served by generated objects.
 */
export function generateMariadbDdl(template: RecTemplate): MariadbDdl {
  const p = plan(template);
  const procedures = [...createDdl(p), ...updateDdl(p), ...deleteDdl(p)];
  const lines = [
    ...header(p),
    ...tableDdl(p),
    ...viewDdl(p),
    ...(procedures.length ? ["DELIMITER $$", "", ...procedures, "DELIMITER ;", ""] : []),
    ...handWritten(p),
  ];
  const sql = lines.join("\n").replace(/\n+$/, "\n");
  const view = template.ops.read?.view;
  return view ? { sql, table: p.table, view } : { sql, table: p.table };
}
