/**
 * Verifies templates against the live catalog (`information_schema`): every
 * view, procedure and function a template names exists, each routine takes
 * as many parameters as the template passes, and a view has every column the
 * template filters or orders on.
 *
 * @module
 */
import type { RecTemplate } from "../../templates/mod.ts";
import type { VerifyProblem } from "../types.ts";

type Row = Record<string, unknown>;
type Query = (sql: string, values: unknown[]) => Promise<Row[]>;

interface Wanted {
  template: RecTemplate;
  path: string;
  kind: "VIEW" | "PROCEDURE" | "FUNCTION";
  schema: string;
  name: string;
  params: readonly string[];
  columns: readonly string[];
}

function wanted(t: RecTemplate, schemaOf: (db: string) => string): Wanted[] {
  const schema = schemaOf(t.database);
  const out: Wanted[] = [];
  const read = t.ops.read;
  if (read?.view) {
    const columns = [...new Set([...read.where, ...read.order, ...(read.key ?? [])])];
    out.push({
      template: t,
      path: "ops.read.view",
      kind: "VIEW",
      schema,
      name: read.view,
      params: [],
      columns,
    });
  }
  if (read?.procedure) {
    out.push({
      template: t,
      path: "ops.read.procedure",
      kind: "PROCEDURE",
      schema,
      name: read.procedure,
      params: read.params,
      columns: [],
    });
  }
  for (const op of ["create", "update", "delete"] as const) {
    const spec = t.ops[op];
    if (spec) {
      out.push({
        template: t,
        path: `ops.${op}.procedure`,
        kind: "PROCEDURE",
        schema,
        name: spec.procedure,
        params: spec.params,
        columns: [],
      });
    }
  }
  for (const [name, call] of t.calls) {
    const kind = call.function ? "FUNCTION" : "PROCEDURE";
    out.push({
      template: t,
      path: `calls.${name}.${kind.toLowerCase()}`,
      kind,
      schema,
      name: (call.function ?? call.procedure)!,
      params: call.params,
      columns: [],
    });
  }
  return out;
}

/** Returns every mismatch between `templates` and the catalog. */
export async function verifyTemplates(
  templates: readonly RecTemplate[],
  schemaOf: (database: string) => string,
  query: Query,
): Promise<VerifyProblem[]> {
  const items = templates.flatMap((t) => wanted(t, schemaOf));
  const schemas = [...new Set(items.map((i) => i.schema))];
  if (!schemas.length) return [];
  const marks = schemas.map(() => "?").join(", ");
  const [tables, routines, params, columns] = await Promise.all([
    query(
      `SELECT TABLE_SCHEMA s, TABLE_NAME n, TABLE_TYPE t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${marks})`,
      schemas,
    ),
    query(
      `SELECT ROUTINE_SCHEMA s, ROUTINE_NAME n, ROUTINE_TYPE t FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${marks})`,
      schemas,
    ),
    query(
      `SELECT SPECIFIC_SCHEMA s, SPECIFIC_NAME n, ROUTINE_TYPE t, COUNT(*) c FROM information_schema.PARAMETERS
       WHERE SPECIFIC_SCHEMA IN (${marks}) AND PARAMETER_MODE IS NOT NULL GROUP BY 1, 2, 3`,
      schemas,
    ),
    query(
      `SELECT TABLE_SCHEMA s, TABLE_NAME n, COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (${marks})`,
      schemas,
    ),
  ]);
  const has = (rows: Row[], s: string, n: string, t?: string) =>
    rows.some((r) => r.s === s && String(r.n).toLowerCase() === n.toLowerCase() && (!t || r.t === t));
  const problems: VerifyProblem[] = [];
  for (const w of items) {
    const object = `${w.schema}.${w.name}`;
    const problem = (message: string) =>
      problems.push({ template: w.template.name, file: w.template.file, path: w.path, object, message });
    if (w.kind === "VIEW") {
      if (!has(tables, w.schema, w.name)) {
        problem(`view "${object}" does not exist`);
        continue;
      }
      for (const column of w.columns) {
        const found = columns.some((r) =>
          r.s === w.schema && String(r.n).toLowerCase() === w.name.toLowerCase() && r.c === column
        );
        if (!found) problem(`view "${object}" has no column "${column}"`);
      }
      continue;
    }
    if (!has(routines, w.schema, w.name, w.kind)) {
      problem(`${w.kind.toLowerCase()} "${object}" does not exist`);
      continue;
    }
    const row = params.find((r) =>
      r.s === w.schema && String(r.n).toLowerCase() === w.name.toLowerCase() && r.t === w.kind
    );
    const count = Number(row?.c ?? 0);
    if (count !== w.params.length) {
      problem(
        `${w.kind.toLowerCase()} "${object}" takes ${count} parameters, the template passes ${w.params.length}`,
      );
    }
  }
  return problems;
}
