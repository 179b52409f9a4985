/**
 * Checks what REL parts take from earlier parts' results (`$parts.P.F`)
 * against the catalog: where part P reads a view, F must be one of its
 * columns. A name it does not have (a typo) would fail every request with
 * NOT_FOUND, as for a row that is not there. Results of procedures declare
 * no columns, so parts that call one are not checked. Pure: reads catalog
 * rows.
 *
 * @module
 */
import type { RecTemplate, RelTemplate } from "../../templates/mod.ts";
import type { VerifyProblem } from "../types.ts";

type Row = Record<string, unknown>;

/** Options for {@link relProblems}. */
export interface RelCheckOptions {
  rels: readonly RelTemplate[];
  /** The REC templates of this store, by name. */
  recs: ReadonlyMap<string, RecTemplate>;
  schemaOf: (database: string) => string;
  /** COLUMNS rows: `s` schema, `n` table or view, `c` column. */
  columns: readonly Row[];
  /** Whether a catalog table (or schema) name is `name`, as the server compares them. */
  sameTable: (catalog: unknown, name: string) => boolean;
}

/** An error for each `$parts.P.F` whose part P reads a view without column F. */
export function relProblems(options: RelCheckOptions): VerifyProblem[] {
  const { recs, schemaOf, columns, sameTable } = options;
  const problems: VerifyProblem[] = [];
  for (const rel of options.rels) {
    const byName = new Map(rel.parts.map((part) => [part.name, part]));
    for (const part of rel.parts) {
      for (const section of ["key", "where", "data"] as const) {
        for (const [field, source] of part[section] ?? []) {
          if (source.from !== "result" || source.field === undefined) continue;
          const spec = byName.get(source.name)?.spec;
          const target = spec && spec.op === "read" ? recs.get(spec.template) : undefined;
          const view = target?.ops.read?.view;
          if (!target || !view) continue;
          const schema = schemaOf(target.database);
          const inView = columns.filter((r) => sameTable(r.s, schema) && sameTable(r.n, view));
          // A view that is missing is reported for its own template.
          if (!inView.length || inView.some((r) => r.c === source.field)) continue;
          problems.push({
            template: rel.name,
            file: rel.file,
            path: `parts.${part.name}.${section}.${field}`,
            object: `${schema}.${view}`,
            message: `"$parts.${source.name}.${source.field}": view "${schema}.${view}" has no column ` +
              `"${source.field}"`,
            severity: "error",
          });
        }
      }
    }
  }
  return problems;
}
