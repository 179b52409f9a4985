/**
 * Verifies MongoDB templates against the live server: the collection each
 * template names exists (MongoDB would otherwise create it silently on the
 * first insert). On request it also warns when no unique index covers the
 * template's key, since then nothing stops two documents sharing one.
 *
 * @module
 */
import type { RecTemplate } from "../../templates/mod.ts";
import type { VerifyProblem } from "../types.ts";
import { identityOf } from "./filters.ts";

/** Options for {@link verifyCollections}. */
export interface VerifyCollectionsOptions {
  /** Only the templates with `store = "mongodb"` are checked. */
  templates: readonly RecTemplate[];
  /** Physical database of a logical database name. */
  databaseOf: (database: string) => string;
  /** Names of the collections of a database. */
  listCollections: (database: string) => Promise<string[]>;
  /** Field lists of the unique indexes of a collection (needed only with `drift`). */
  uniqueIndexes?: (database: string, collection: string) => Promise<string[][]>;
  /**
   * Also warn about a key no unique index covers.
   * @default false
   */
  drift?: boolean;
}

/** Returns a problem for every missing collection, and with `drift` every unprotected key. */
export async function verifyCollections(options: VerifyCollectionsOptions): Promise<VerifyProblem[]> {
  const templates = options.templates.filter((t) => t.store === "mongodb");
  const problems: VerifyProblem[] = [];
  const listed = new Map<string, Promise<string[]>>();
  for (const t of templates) {
    const database = options.databaseOf(t.database);
    const problem = (object: string, message: string, severity: VerifyProblem["severity"] = "error") =>
      problems.push({
        template: t.name,
        file: t.file,
        path: "template.collection",
        object,
        message,
        severity,
      });
    if (!t.collection) {
      problem(database, "a mongodb template must name its collection");
      continue;
    }
    const object = `${database}.${t.collection}`;
    if (!listed.has(database)) listed.set(database, options.listCollections(database));
    if (!(await listed.get(database)!).includes(t.collection)) {
      problem(object, `collection "${object}" does not exist`);
      continue;
    }
    const key = identityOf(t);
    if (!options.drift || !key.length || !options.uniqueIndexes) continue;
    const unique = await options.uniqueIndexes(database, t.collection);
    // A unique index on the key fields, or on some of them, allows one document per key.
    const covered = unique.some((fields) => fields.length > 0 && fields.every((f) => key.includes(f)));
    if (!covered) {
      problem(object, `collection "${object}" has no unique index on ${key.join(", ")}`, "warning");
    }
  }
  return problems;
}
