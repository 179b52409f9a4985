/**
 * The templates checked against every store the node has (the catalog of
 * MariaDB, MongoDB's collections), alike at start-up and on a reload.
 *
 * @module
 */
import type { Adapter, VerifyProblem } from "../adapters/mod.ts";
import { recTemplates, type RelTemplate, type Template } from "../templates/mod.ts";

/** Every problem of `templates` against the stores of `adapters` (errors only: no drift). */
export async function verifyStores(
  adapters: ReadonlyMap<string, Adapter>,
  templates: readonly Template[],
): Promise<VerifyProblem[]> {
  const recs = recTemplates(templates);
  const rels = templates.filter((t): t is RelTemplate => t.kind === "rel");
  const problems: VerifyProblem[] = [];
  for (const adapter of adapters.values()) problems.push(...await adapter.verify(recs, { rels }));
  return problems;
}
