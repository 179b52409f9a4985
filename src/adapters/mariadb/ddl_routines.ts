/**
 * The stored procedures of the generated DDL (create, update, delete) and
 * the signatures of the routines a DBA writes by hand (named calls, read
 * procedures). Pure string building for {@link generateMariadbDdl}.
 *
 * @module
 */
import type { FieldSpec, ProcedureOpSpec, RecTemplate } from "../../templates/mod.ts";
import { commentText, ident, literal, paramType } from "./ddl_columns.ts";

/** What the generator derived from a template before writing SQL. */
export interface DdlPlan {
  t: RecTemplate;
  table: string;
  /** What the write procedures select the affected row from. */
  source: string;
  /** The primary key fields. */
  key: readonly string[];
  /** The key field the database assigns (AUTO_INCREMENT). */
  autoKey?: string;
  /** Every template field, in declaration order. */
  columns: readonly string[];
  /** The update and delete keys that are not the primary key, each a UNIQUE KEY of the table. */
  uniqueKeys: readonly (readonly string[])[];
  /** VARCHAR fields whose column is a TEXT, so that the row fits, with the limit it fits. */
  asText: ReadonlyMap<string, string>;
}

/** A thin separator line. */
export const THIN = `-- ${"-".repeat(77)}`;

/** The key an op identifies its row by (its own, else the table's). */
export function opKey(spec: ProcedureOpSpec, fallback: readonly string[]): readonly string[] {
  return spec.key ?? fallback;
}

/** The declaration of a field of the plan's template. */
export function fieldOf(p: DdlPlan, field: string): FieldSpec {
  return p.t.fields[field]!;
}

function signature(p: DdlPlan, params: readonly string[], mode: "IN " | ""): string[] {
  if (!params.length) return ["()"];
  const width = Math.max(...params.map((f) => `p_${f}`.length));
  const lines = params.map((f) => `  ${mode}${`p_${f}`.padEnd(width)} ${paramType(fieldOf(p, f))}`);
  return ["(", lines.join(",\n"), ")"];
}

function where(fields: readonly string[], value: (field: string) => string): string {
  return fields.map((f) => `${ident(f)} = ${value(f)}`).join(" AND ");
}

function signal(state: string, message: string): string {
  return `    SIGNAL SQLSTATE '${state}' SET MESSAGE_TEXT = ${literal(message)};`;
}

/** 45000 for a string enum outside its values (the ENUM column would only truncate without strict mode). */
function enumChecks(p: DdlPlan, params: readonly string[]): string[] {
  return params.flatMap((f) => {
    const s = fieldOf(p, f);
    if (s.type !== "string" || !s.enum) return [];
    return [
      `  IF p_${f} IS NOT NULL AND p_${f} NOT IN (${s.enum.map((v) => literal(String(v))).join(", ")}) THEN`,
      signal("45000", `invalid ${p.t.name} ${f}`),
      "  END IF;",
    ];
  });
}

function selectRow(p: DdlPlan, match: string): string[] {
  return [
    `  SELECT ${p.columns.map(ident).join(", ")}`,
    `    FROM ${ident(p.source)}`,
    `   WHERE ${match};`,
  ];
}

function procedure(
  p: DdlPlan,
  name: string,
  params: readonly string[],
  comment: string,
  body: string[],
): string[] {
  return [
    `CREATE OR REPLACE PROCEDURE ${ident(name)}${signature(p, params, "IN ").join("\n")}`,
    "  MODIFIES SQL DATA",
    `  COMMENT ${literal(comment)}`,
    "BEGIN",
    ...body,
    "END$$",
    "",
  ];
}

export function createDdl(p: DdlPlan): string[] {
  const spec_ = p.t.ops.create;
  if (!spec_) return [];
  const { t, table, source, key, autoKey } = p;
  const required = spec_.required ?? spec_.params.filter((f) => fieldOf(p, f).required);
  const body: string[] = [];
  for (const f of required) {
    body.push(`  IF p_${f} IS NULL THEN`, signal("45000", `${t.name} ${f} is required`), "  END IF;");
  }
  body.push(...enumChecks(p, spec_.params));
  if (!autoKey) {
    body.push(
      `  IF EXISTS (SELECT 1 FROM ${ident(table)} WHERE ${where(key, (f) => `p_${f}`)}) THEN`,
      signal("45409", `${t.name} already exists`),
      "  END IF;",
    );
  }
  if (body.length) body.push("");
  body.push(
    `  INSERT INTO ${ident(table)} (${spec_.params.map(ident).join(", ")})`,
    `  VALUES (${spec_.params.map((f) => `p_${f}`).join(", ")});`,
    ...selectRow(p, where(key, (f) => f === autoKey ? "LAST_INSERT_ID()" : `p_${f}`)),
  );
  return [
    `-- ${spec_.procedure} (ops.create): insert a record; returns the new ${source} row.`,
    autoKey
      ? `-- The database assigns ${autoKey}; a duplicate unique key is the natural error 1062.`
      : "-- An existing key is 45409; the primary key (1062) remains the backstop if one races in.",
    ...procedure(
      p,
      spec_.procedure!,
      spec_.params,
      `Create a ${t.name} record; returns the ${source} row`,
      body,
    ),
  ];
}

function notFound(p: DdlPlan, key: readonly string[]): string[] {
  return [
    `  IF NOT EXISTS (SELECT 1 FROM ${ident(p.table)} WHERE ${where(key, (f) => `p_${f}`)}) THEN`,
    signal("45404", `${p.t.name} not found`),
    "  END IF;",
  ];
}

export function updateDdl(p: DdlPlan): string[] {
  const spec_ = p.t.ops.update;
  if (!spec_) return [];
  const key = opKey(spec_, p.key);
  const set = spec_.params.filter((f) => !key.includes(f));
  const width = Math.max(...set.map((f) => ident(f).length));
  const body = [
    ...notFound(p, key),
    ...enumChecks(p, set),
    "",
    `  UPDATE ${ident(p.table)}`,
    `     SET ${
      set.map((f) => `${ident(f).padEnd(width)} = COALESCE(p_${f}, ${ident(f)})`).join(",\n         ")
    }`,
    `   WHERE ${where(key, (f) => `p_${f}`)};`,
    "",
    ...selectRow(p, where(key, (f) => `p_${f}`)),
  ];
  return [
    `-- ${spec_.procedure} (ops.update): change a record; NULL leaves a column unchanged.`,
    ...procedure(
      p,
      spec_.procedure!,
      spec_.params,
      `Update a ${p.t.name} record (NULL = unchanged); returns the ${p.source} row`,
      body,
    ),
  ];
}

export function deleteDdl(p: DdlPlan): string[] {
  const spec_ = p.t.ops.delete;
  if (!spec_) return [];
  const key = opKey(spec_, p.key);
  const unused = spec_.params.filter((f) => !key.includes(f));
  const body = [
    ...notFound(p, key),
    "",
    ...selectRow(p, where(key, (f) => `p_${f}`)),
    `  DELETE FROM ${ident(p.table)} WHERE ${where(key, (f) => `p_${f}`)};`,
  ];
  return [
    `-- ${spec_.procedure} (ops.delete): delete a record; returns the row as it was.`,
    "-- A foreign key from another table surfaces as the natural error 1451 (CONFLICT).",
    ...(unused.length
      ? [`-- Passed by the template but not used: ${unused.map((f) => `p_${f}`).join(", ")}.`]
      : []),
    ...procedure(
      p,
      spec_.procedure!,
      spec_.params,
      `Delete a ${p.t.name} record; returns the deleted ${p.source} row`,
      body,
    ),
  ];
}

/** Signatures of the routines whose logic the template cannot give. */
export function handWritten(p: DdlPlan): string[] {
  const { t } = p;
  const items: string[] = [];
  const sig = (params: readonly string[], mode: "IN " | "") =>
    params.length ? `(${params.map((f) => `${mode}p_${f} ${paramType(fieldOf(p, f))}`).join(", ")})` : "()";
  const read = t.ops.read;
  if (read?.procedure) {
    items.push(
      `-- ops.read.procedure${read.description ? `: ${commentText(read.description)}` : ""}`,
      `--   PROCEDURE ${ident(read.procedure)}${sig(read.params, "IN ")}`,
      "--   BEDS replies with the rows of its first result set.",
    );
  }
  for (const [name, call] of t.calls) {
    const what = call.function ? "FUNCTION" : "PROCEDURE";
    items.push(
      `-- calls.${name}${call.description ? `: ${commentText(call.description)}` : ""}`,
      `--   ${what} ${ident((call.function ?? call.procedure)!)}${
        sig(call.params, call.function ? "" : "IN ")
      }${call.function ? " RETURNS ..." : ""}`,
      call.function
        ? "--   BEDS replies with its return value."
        : "--   BEDS replies with its first result set.",
    );
  }
  if (!items.length) return [];
  return [
    THIN,
    "-- To write by hand: the template names these routines but not their logic.",
    "-- BEDS calls them by name with exactly these parameters, in this order.",
    THIN,
    ...items,
    "",
  ];
}
