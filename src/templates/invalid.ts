/**
 * One way to report a bad template file: `Invalid template "<file>": <key
 * path>: <reason>`, for schema failures and cross-checks alike.
 *
 * @module
 */
import type { z } from "zod";
import { TemplateError } from "../errors.ts";

/** Throws the template error for `path` in `file`. */
export function invalid(file: string, path: string, text: string): never {
  throw new TemplateError(`Invalid template "${file}": ${path}: ${text}`);
}

/** Parses `raw` with `schema`, or throws naming the first bad key. */
export function parseTemplate<S extends z.ZodType>(schema: S, file: string, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const base = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    invalid(file, base ? `${base}.${issue.keys[0]}` : issue.keys[0]!, "unknown key");
  }
  invalid(
    file,
    base || "(root)",
    /received undefined/.test(issue.message) ? "missing required value" : issue.message,
  );
}
