/**
 * Loads template files from a directory: TOML → zod schema → cross-checks →
 * compiled, frozen {@link RecTemplate}s. Every error names file and key path.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { BedsError, TemplateError } from "../errors.ts";
import { invalid, parseTemplate } from "./invalid.ts";
import { DECIMAL, decimalText } from "./decimal_text.ts";
import { type FieldCheck, fieldCheck } from "./fields.ts";
import { compileRelTemplate, linkRelTemplate, type RelTemplate } from "./rel.ts";
import { compileTxnTemplate, linkTxnTemplate, type TxnTemplate } from "./txn.ts";
import { checkStoreRules } from "./store_rules.ts";
import {
  type CallSpec,
  DECIMAL_DEFAULTS,
  type FieldSpec,
  type ProcedureOpSpec,
  type ReadOpSpec,
  type RecTemplateFile,
  recTemplateSchema,
} from "./schema.ts";

/** A compiled REC template, immutable once loaded. */
export interface RecTemplate {
  readonly kind: "rec";
  readonly name: string;
  readonly description: string;
  readonly store: "mariadb" | "mongodb";
  /** Logical database name (mapped to a physical schema by config). */
  readonly database: string;
  /** The collection of a mongodb template. */
  readonly collection?: string;
  /** File the template was loaded from. */
  readonly file: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly checks: ReadonlyMap<string, FieldCheck>;
  readonly ops: {
    readonly read?: ReadOpSpec;
    readonly create?: ProcedureOpSpec;
    readonly update?: ProcedureOpSpec;
    readonly delete?: ProcedureOpSpec;
  };
  readonly calls: ReadonlyMap<string, CallSpec>;
}

/** Any compiled template. */
export type Template = RecTemplate | RelTemplate | TxnTemplate;

function checkNames(
  file: string,
  path: string,
  names: readonly string[] | undefined,
  fields: Record<string, FieldSpec>,
  within?: readonly string[],
): void {
  for (const [i, name] of (names ?? []).entries()) {
    if (!Object.hasOwn(fields, name)) invalid(file, `${path}.${i}`, `"${name}" is not a declared field`);
    if (within && !within.includes(name)) {
      invalid(file, `${path}.${i}`, `"${name}" is not one of the op's params`);
    }
  }
}

/** The enum values each field type can have; a type missing here has no enum. */
const ENUM_VALUE: Partial<Record<FieldSpec["type"], (value: string | number) => boolean>> = {
  string: (value) => typeof value === "string",
  int: (value) => Number.isSafeInteger(value),
  number: (value) => typeof value === "number",
  // A decimal's value is given as text ("1.50") or a TOML number (1.5), as a client may send either.
  decimal: (value) => DECIMAL.test(decimalText(value)),
};

/**
 * Refuses an enum value of the wrong type, or one the field itself refuses (past its digits, min or
 * max, length or pattern): no request could ever give it.
 */
function checkEnum(file: string, name: string, spec: FieldSpec): void {
  const { enum: values = [], ...unlisted } = spec;
  const check = fieldCheck(name, unlisted);
  for (const [i, value] of values.entries()) {
    const path = `fields.${name}.enum.${i}`;
    if (!ENUM_VALUE[spec.type]?.(value)) {
      invalid(file, path, `${JSON.stringify(value)} is not a ${spec.type} value`);
    }
    try {
      check(value);
    } catch (error) {
      if (!(error instanceof BedsError)) throw error;
      invalid(file, path, `${JSON.stringify(value)} is refused: ${error.message}`);
    }
  }
}

function crossCheck(file: string, t: RecTemplateFile): void {
  const { fields, ops } = t;
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.pattern !== undefined) {
      try {
        new RegExp(spec.pattern, "u");
      } catch (error) {
        invalid(file, `fields.${name}.pattern`, (error as Error).message);
      }
    }
    // Constraints that cannot hold together, or that the field's type would silently ignore: every
    // value would be refused, or none checked as the author meant.
    const at = (key: string) => `fields.${name}.${key}`;
    const text = spec.type === "string";
    const numeric = spec.type === "int" || spec.type === "number" || spec.type === "decimal";
    for (const key of ["min_length", "max_length", "pattern"] as const) {
      if (spec[key] !== undefined && !text) invalid(file, at(key), "only a string field has it");
    }
    for (const key of ["min", "max"] as const) {
      if (spec[key] !== undefined && !numeric) invalid(file, at(key), "only a numeric field has it");
    }
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
      invalid(file, at("min"), "must not exceed max");
    }
    if (spec.min_length !== undefined && spec.max_length !== undefined && spec.min_length > spec.max_length) {
      invalid(file, at("min_length"), "must not exceed max_length");
    }
    if (spec.type !== "decimal") {
      for (const key of ["precision", "scale"] as const) {
        if (spec[key] !== undefined) {
          invalid(file, `fields.${name}.${key}`, "only a decimal field has digits");
        }
      }
    } else if ((spec.scale ?? DECIMAL_DEFAULTS.scale) > (spec.precision ?? DECIMAL_DEFAULTS.precision)) {
      invalid(file, `fields.${name}.scale`, "must not exceed precision");
    }
    // Last: the field's own check, which each enum value must pass, takes the rest as consistent.
    checkEnum(file, name, spec);
  }
  if (ops.read) {
    const r = ops.read;
    if (t.template.store === "mariadb" && !r.view === !r.procedure) {
      invalid(file, "ops.read", 'set exactly one of "view" or "procedure"');
    }
    checkNames(file, "ops.read.params", r.params, fields);
    checkNames(file, "ops.read.key", r.key, fields);
    checkNames(file, "ops.read.where", r.where, fields);
    checkNames(file, "ops.read.order", r.order, fields);
    checkNames(file, "ops.read.required", r.required, fields, r.params);
    if (r.view && r.params.length) invalid(file, "ops.read.params", "a view read takes no params");
    // A procedure read's key is passed as its params: a key field outside them is refused on every read.
    if (r.procedure) checkNames(file, "ops.read.key", r.key, fields, r.params);
  }
  for (const op of ["create", "update", "delete"] as const) {
    const spec = ops[op];
    if (!spec) continue;
    checkNames(file, `ops.${op}.params`, spec.params, fields);
    checkNames(file, `ops.${op}.key`, spec.key, fields, spec.params);
    checkNames(file, `ops.${op}.required`, spec.required, fields, spec.params);
  }
  for (const [name, call] of Object.entries(t.calls)) {
    if (!call.procedure === !call.function) {
      invalid(file, `calls.${name}`, 'set exactly one of "procedure" or "function"');
    }
    checkNames(file, `calls.${name}.params`, call.params, fields);
    checkNames(file, `calls.${name}.required`, call.required, fields, call.params);
  }
}

function parseToml(file: string, text: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      invalid(file, `line ${error.line}, column ${error.column}`, error.message.split("\n")[0]!);
    }
    throw error;
  }
}

/** Parses and compiles one REC template's text; `file` is used in messages. */
export function compileTemplate(file: string, text: string): RecTemplate {
  return compileRec(file, parseToml(file, text));
}

/** Parses and compiles a REC, REL or TXN template (by its `template.kind`). */
export function compileAnyTemplate(file: string, text: string): Template {
  const raw = parseToml(file, text) as { template?: { kind?: unknown } };
  const kind = raw?.template?.kind;
  if (kind === "rel") return compileRelTemplate(file, raw);
  if (kind === "txn") return compileTxnTemplate(file, raw);
  return compileRec(file, raw);
}

function compileRec(file: string, raw: unknown): RecTemplate {
  const t = parseTemplate(recTemplateSchema, file, raw);
  checkStoreRules(file, t);
  crossCheck(file, t);
  const checks = new Map<string, FieldCheck>();
  for (const [name, spec] of Object.entries(t.fields)) checks.set(name, fieldCheck(name, spec));
  return Object.freeze({
    kind: "rec" as const,
    name: t.template.name,
    description: t.template.description ?? "",
    store: t.template.store,
    database: t.template.database,
    ...(t.template.collection === undefined ? {} : { collection: t.template.collection }),
    file,
    fields: Object.freeze(t.fields),
    checks,
    ops: Object.freeze(t.ops),
    calls: new Map(Object.entries(t.calls)),
  });
}

/** Whether a symlink leads to a file; one that leads nowhere (a ConfigMap key being removed, a loop) does not. */
async function linksToFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.FilesystemLoop) return false;
    throw error;
  }
}

/**
 * The `.toml` files of `dir`, sorted. A symlink counts when it leads to a file: a Kubernetes
 * ConfigMap mounts each file as one, and skipped they would leave a node with no templates.
 * @throws {TemplateError} when the directory, or a link in it, cannot be read.
 */
export async function templateFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".toml")) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isFile || (entry.isSymlink && await linksToFile(path))) files.push(path);
    }
  } catch (error) {
    throw new TemplateError(`Cannot read templates directory "${dir}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  return files.sort();
}

/**
 * Loads every `*.toml` file of `dir` (sorted by name) and links REL
 * templates to the REC templates they read.
 * @throws {TemplateError} naming the file and key, or a duplicate name.
 */
export async function loadTemplates(dir: string): Promise<Template[]> {
  const files = await templateFiles(dir);
  const byName = new Map<string, Template>();
  for (const file of files) {
    const template = compileAnyTemplate(file, await Deno.readTextFile(file));
    const other = byName.get(template.name);
    if (other) {
      invalid(file, "template.name", `"${template.name}" is already defined in "${other.file}"`);
    }
    byName.set(template.name, template);
  }
  const recs = new Map<string, RecTemplate>();
  for (const t of byName.values()) if (t.kind === "rec") recs.set(t.name, t);
  for (const t of byName.values()) {
    if (t.kind === "rel") linkRelTemplate(t, recs);
    else if (t.kind === "txn") linkTxnTemplate(t, recs);
  }
  return [...byName.values()];
}

/** Only the REC templates of a set. */
export function recTemplates(templates: readonly Template[]): RecTemplate[] {
  return templates.filter((t): t is RecTemplate => t.kind === "rec");
}
