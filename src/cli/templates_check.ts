/**
 * `beds templates validate [DIR]` (offline: every file's first error) and
 * `beds templates verify` (against the live stores: what would fail
 * requests is an error, as at start-up; drift that still works, such as
 * MariaDB parameters not named `p_<field>`, is a warning).
 *
 * @module
 */
import {
  type Adapter,
  createMariadbAdapter,
  createMongodbAdapter,
  type VerifyProblem,
} from "../adapters/mod.ts";
import type { Config } from "../config/mod.ts";
import { EXIT_CODES } from "../ipl/mod.ts";
import { silentLogger } from "../logging/mod.ts";
import {
  loadTemplates,
  recTemplates,
  type RelTemplate,
  type TxnTemplate,
  validateTemplates,
} from "../templates/mod.ts";
import { configFrom } from "./args.ts";
import type { CliIo } from "./io.ts";

type Store = "mariadb" | "mongodb";

/** Flags of the two commands. */
export interface TemplatesCheckValues {
  config?: string;
  env?: string;
  dir?: string;
}

/** Prints one line per template file; exit 15 if any is invalid. */
export async function validateCommand(
  dirArg: string | undefined,
  values: TemplatesCheckValues,
  io: CliIo,
): Promise<number> {
  const dir = dirArg ?? values.dir ?? configFrom(values, io).templatesDir;
  const results = await validateTemplates(dir);
  for (const r of results) {
    io.out(r.ok ? `ok    ${r.file}: ${r.template.name} (${r.template.kind})` : `FAIL  ${r.error}`);
  }
  const bad = results.filter((r) => !r.ok).length;
  io.out(
    bad
      ? `${bad} of ${results.length} template files invalid in ${dir}`
      : `${results.length} template files valid in ${dir}`,
  );
  return bad ? EXIT_CODES.templates_load : 0;
}

const OBJECT_PREFIX = /^(view|procedure|function|collection) "[^"]*" /;

function table(problems: readonly VerifyProblem[]): string[] {
  const rows = [
    ["LEVEL", "TEMPLATE", "PATH", "OBJECT", "PROBLEM"],
    // The object has its own column: drop it from the front of the message.
    ...problems.map((p) => [p.severity, p.template, p.path, p.object, p.message.replace(OBJECT_PREFIX, "")]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => i < 4 ? cell.padEnd(widths[i]!) : cell).join("  "));
}

/** A store's adapter, opened for a few catalog reads. */
type Opened = { adapter: Adapter; where: string };

/** Opens the store's adapter, or says why it cannot (reported as an error row per template). */
async function openStore(store: Store, config: Config): Promise<Opened | string> {
  const logger = silentLogger();
  let opened: Opened & { adapter: { open(): Promise<void> } };
  if (store === "mariadb") {
    const maria = config.databases.mariadb;
    if (!maria) return "no [databases.mariadb] is configured";
    // One connection to each server is enough for a few catalog queries; the secondary takes the reads.
    const adapter = createMariadbAdapter({
      config: {
        ...maria,
        master: { ...maria.master, connections: 1 },
        secondary: maria.secondary && { ...maria.secondary, connections: 1 },
      },
      logger,
    });
    opened = { adapter, where: `mariadb ${maria.master.host}:${maria.master.port}` };
  } else {
    const mongo = config.databases.mongodb;
    if (!mongo) return "no [databases.mongodb] is configured";
    opened = { adapter: createMongodbAdapter({ config: mongo, logger }), where: "mongodb" };
  }
  try {
    await opened.adapter.open();
    return opened;
  } catch (error) {
    await opened.adapter.close().catch(() => {});
    return `cannot connect to ${store}: ${(error as Error).message}`;
  }
}

/** Prints the drift between templates and the live stores; exit 16 on any error. */
export async function verifyCommand(values: TemplatesCheckValues, io: CliIo): Promise<number> {
  const config = configFrom(values, io);
  const dir = values.dir ?? config.templatesDir;
  const templates = await loadTemplates(dir);
  const transactions = templates.filter((t): t is TxnTemplate => t.kind === "txn");
  const rels = templates.filter((t): t is RelTemplate => t.kind === "rel");
  const problems: VerifyProblem[] = [];
  const checked: string[] = [];
  for (const store of ["mariadb", "mongodb"] as const) {
    const recs = recTemplates(templates).filter((t) => t.store === store);
    if (!recs.length) continue;
    const opened = await openStore(store, config);
    if (typeof opened === "string") {
      for (const t of recs) {
        problems.push({
          template: t.name,
          file: t.file,
          path: "template.store",
          object: store,
          message: opened,
          severity: "error",
        });
      }
      continue;
    }
    try {
      problems.push(...await opened.adapter.verify(recs, { drift: true, transactions, rels }));
    } finally {
      await opened.adapter.close();
    }
    checked.push(`${recs.length} on ${opened.where}`);
  }
  problems.sort((a, b) => a.template.localeCompare(b.template) || a.path.localeCompare(b.path));
  const errors = problems.filter((p) => p.severity === "error").length;
  if (problems.length) { for (const line of table(problems)) io.out(line); }
  const scope = `REC templates (${checked.join(", ") || "none checked"})`;
  io.out(
    problems.length
      ? `templates verify: ${errors} error(s), ${problems.length - errors} warning(s); ${scope}`
      : `templates verify: every template matches; ${scope}`,
  );
  return errors ? EXIT_CODES.templates_verify : 0;
}
