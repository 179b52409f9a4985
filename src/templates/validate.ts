/**
 * Offline validation of a templates directory that, unlike
 * {@link loadTemplates}, does not stop at the first bad file: every file
 * gets its own outcome (its first error, naming file and key path).
 *
 * @module
 */
import { TemplateError } from "../errors.ts";
import { compileAnyTemplate, type RecTemplate, type Template, templateFiles } from "./loader.ts";
import { linkRelTemplate } from "./rel.ts";
import { linkTxnTemplate } from "./txn.ts";

/** The outcome of one template file. */
export type FileValidation =
  | { file: string; ok: true; template: Template }
  | { file: string; ok: false; error: string };

function errorText(error: unknown): string {
  if (error instanceof TemplateError) return error.message;
  throw error;
}

/**
 * Validates every `*.toml` file of `dir` (sorted by name): schema, cross
 * checks, duplicate names and the links of REL/TXN templates to REC ones.
 * @throws {TemplateError} only when the directory cannot be read.
 */
export async function validateTemplates(dir: string): Promise<FileValidation[]> {
  const results: FileValidation[] = [];
  const byName = new Map<string, Template>();
  for (const file of await templateFiles(dir)) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      results.push({ file, ok: false, error: `Cannot read template "${file}": ${(error as Error).message}` });
      continue;
    }
    try {
      const template = compileAnyTemplate(file, text);
      const other = byName.get(template.name);
      if (other) {
        throw new TemplateError(
          `Invalid template "${file}": template.name: "${template.name}" is already defined in "${other.file}"`,
        );
      }
      byName.set(template.name, template);
      results.push({ file, ok: true, template });
    } catch (error) {
      results.push({ file, ok: false, error: errorText(error) });
    }
  }
  const recs = new Map<string, RecTemplate>();
  for (const t of byName.values()) if (t.kind === "rec") recs.set(t.name, t);
  return results.map((result) => {
    if (!result.ok) return result;
    const t = result.template;
    try {
      if (t.kind === "rel") linkRelTemplate(t, recs);
      else if (t.kind === "txn") linkTxnTemplate(t, recs);
      return result;
    } catch (error) {
      return { file: result.file, ok: false, error: errorText(error) };
    }
  });
}
