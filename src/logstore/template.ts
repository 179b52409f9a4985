/**
 * Loads the log store template (`mst`) from its own directory and points it
 * at the store and database the config chose.
 *
 * @module
 */
import { TemplateError } from "../errors.ts";
import { loadTemplates, type RecTemplate } from "../templates/mod.ts";

/** The log store template's name. */
export const LOGSTORE_TEMPLATE = "mst";

/** Options for {@link loadLogStoreTemplate}. */
export interface LogStoreTemplateOptions {
  /** Directory holding `mst_logger_rec.toml` (config `logstore.templates_dir`, resolved). */
  dir: string;
  store: "mariadb" | "mongodb";
  /** Logical database (config `logstore.database`). */
  database: string;
}

/** Loads template `mst` from `dir`, with `store` and `database` from the config. */
export async function loadLogStoreTemplate(options: LogStoreTemplateOptions): Promise<RecTemplate> {
  const found = (await loadTemplates(options.dir)).find((t) => t.name === LOGSTORE_TEMPLATE);
  if (!found || found.kind !== "rec") {
    throw new TemplateError(`No REC template "${LOGSTORE_TEMPLATE}" in log store templates "${options.dir}"`);
  }
  const template: RecTemplate = { ...found, store: options.store, database: options.database };
  return Object.freeze(options.store === "mongodb" ? mongodbVariant(template) : template);
}

/** The MongoDB collection of the log store. */
export const LOGSTORE_COLLECTION = "msLogs";

/** Indexes of a log collection a node creates: newest first (`logs tail`, the observer), and a chain. */
export const LOGSTORE_INDEXES: ReadonlyArray<Record<string, 1 | -1>> = [
  { at: -1, event: -1 },
  { root: 1, at: 1 },
];

/** Record fields a MongoDB document holds (`root` lets a chain be read by equality). */
const DOCUMENT_FIELDS = [
  "event",
  "parent",
  "root",
  "kind",
  "level",
  "at",
  "node",
  "broker",
  "template",
  "op",
  "code",
  "action",
  "attempt",
  "ms",
  "rows",
  "message",
  "doc",
];

/**
 * On MongoDB the template's procedures mean nothing: records are documents of
 * collection msLogs, written one `create` each and read with equality
 * filters, ordered by time.
 */
function mongodbVariant(t: RecTemplate): RecTemplate {
  return {
    ...t,
    collection: LOGSTORE_COLLECTION,
    ops: {
      read: {
        params: [],
        key: ["event"],
        where: ["event", "root", "node", "level", "kind", "template", "code"],
        order: ["at", "event"],
      },
      create: { procedure: "sp_mst_log", params: DOCUMENT_FIELDS },
    },
    calls: new Map(),
  };
}
