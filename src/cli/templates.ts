/**
 * `beds templates list|show NAME`: the templates in the configured
 * directory, read offline (no services needed).
 *
 * @module
 */
import { loadTemplates, type RecTemplate } from "../templates/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { configFrom, parse } from "./args.ts";

/** Usage of `beds templates`. */
export const TEMPLATES_USAGE =
  "beds templates list | beds templates show NAME   [--config DIR] [--env ENV] [--dir DIR]";

function opsOf(t: RecTemplate): string {
  return (["create", "read", "update", "delete"] as const).filter((op) => t.ops[op]).join(",");
}

/** Describes one template as plain data. */
export function describeTemplate(t: RecTemplate): Record<string, unknown> {
  return {
    name: t.name,
    description: t.description,
    store: t.store,
    database: t.database,
    file: t.file,
    fields: t.fields,
    ops: t.ops,
    calls: Object.fromEntries(t.calls),
  };
}

/** Lists or shows templates. */
export async function templatesCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: "string" } });
  const [action, name, ...extra] = positionals;
  if (values.help || !action) {
    io.out(TEMPLATES_USAGE);
    return values.help ? 0 : 2;
  }
  const dir = values.dir ?? configFrom(values, io).templatesDir;
  const templates = await loadTemplates(dir);
  if (action === "list" && !name) {
    io.out(`${"NAME".padEnd(6)} ${"STORE".padEnd(8)} ${"DATABASE".padEnd(10)} ${"OPS".padEnd(26)} CALLS`);
    for (const t of templates) {
      io.out(
        `${t.name.padEnd(6)} ${t.store.padEnd(8)} ${t.database.padEnd(10)} ${opsOf(t).padEnd(26)} ${
          [...t.calls.keys()].join(",") || "-"
        }`,
      );
    }
    io.out(`${templates.length} templates in ${dir}`);
    return 0;
  }
  if (action === "show" && name && !extra.length) {
    const t = templates.find((t) => t.name === name);
    if (!t) {
      io.err(`beds: unknown template "${name}" in ${dir}`);
      return 1;
    }
    io.out(JSON.stringify(describeTemplate(t), null, 2));
    return 0;
  }
  throw new UsageError(`Usage: ${TEMPLATES_USAGE}`);
}
