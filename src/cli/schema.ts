/**
 * `beds schema generate TEMPLATE`: drafts the MariaDB table, read view and
 * write procedures of a REC template for the DBA to review and own.
 * Offline: reads the templates directory only.
 *
 * @module
 */
import { generateMariadbDdl } from "../adapters/mod.ts";
import { TemplateError } from "../errors.ts";
import { loadTemplates } from "../templates/mod.ts";
import { configFrom, parse } from "./args.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Usage of `beds schema`. */
export const SCHEMA_USAGE =
  "beds schema generate TEMPLATE [--out FILE] [--dir DIR] [--config DIR] [--env ENV]";

/** Prints (or writes to `--out`) the DDL of one template. */
export async function schemaCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: "string" }, out: { type: "string" } });
  const [action, name, ...extra] = positionals;
  if (values.help) {
    io.out(SCHEMA_USAGE);
    return 0;
  }
  if (action !== "generate" || !name || extra.length) throw new UsageError(`Usage: ${SCHEMA_USAGE}`);
  const dir = values.dir ?? configFrom(values, io).templatesDir;
  const template = (await loadTemplates(dir)).find((t) => t.name === name);
  if (!template) {
    io.err(`beds: unknown template "${name}" in ${dir}`);
    return 1;
  }
  if (template.kind !== "rec") {
    throw new TemplateError(
      `Cannot generate DDL for template "${name}" (${template.file}): template.kind: is "${template.kind}"; only a REC template owns database objects`,
    );
  }
  const ddl = generateMariadbDdl(template);
  if (values.out === undefined) {
    io.out(ddl.sql.trimEnd());
    return 0;
  }
  try {
    await Deno.writeTextFile(values.out, ddl.sql);
  } catch (error) {
    // The binary, and `deno task beds` like it, may not write files: a node never needs to.
    if (!(error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied)) {
      throw error;
    }
    io.err(`beds: cannot write ${values.out}: ${(error as Error).message}`);
    io.err(`beds: print it instead and redirect: beds schema generate ${name} > ${values.out}`);
    return 1;
  }
  const objects = [`table ${ddl.table}`, ...(ddl.view ? [`view ${ddl.view}`] : [])];
  const procedures = (["create", "update", "delete"] as const).filter((op) => template.ops[op]).length;
  io.out(`wrote ${values.out}: ${objects.join(", ")}, ${procedures} procedure(s)`);
  return 0;
}
