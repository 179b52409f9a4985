/**
 * REL templates: a composite read that fans out to several REC templates
 * (reads and named calls) and assembles one reply. A part takes its values
 * from the request (`$key.F`, `$where.F`) or from another part's result
 * (`$parts.P.F`), which makes it wait for that part; independent parts run
 * concurrently. Cycles and unknown references are rejected at load.
 *
 * @module
 */
import { z } from "zod";
import { invalid, parseTemplate } from "./invalid.ts";
import { type FieldCheck, fieldCheck } from "./fields.ts";
import type { RecTemplate } from "./loader.ts";
import { checkLiterals, checkRequired, requiredFields } from "./required.ts";
import { fieldName, fieldSpecSchema, namedTable } from "./schema.ts";
import { checkSourceTypes } from "./source_types.ts";
import { parseValueSource, type ValueSource } from "./sources.ts";

const valueMap = namedTable("field", z.union([z.string(), z.number(), z.boolean(), z.null()]));

const partSchema = z.strictObject({
  description: z.string().optional(),
  template: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  op: z.enum(["read", "call"]).default("read"),
  call: fieldName.optional(),
  key: valueMap.optional(),
  where: valueMap.optional(),
  data: valueMap.optional(),
  order: z.array(z.string().regex(/^-?[a-z_][a-z0-9_]{0,63}$/)).optional(),
  limit: z.number().int().min(1).optional(),
  /** An optional part that fails yields null and an error entry instead of failing the request. */
  optional: z.boolean().default(false),
});

/** zod schema of a REL template file. */
export const relTemplateSchema = z.strictObject({
  template: z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { message: "expected a lowercase template name" }),
    kind: z.literal("rel"),
    description: z.string().optional(),
    /** Parts running at the same time, at most. */
    concurrency: z.number().int().min(1).max(256).default(8),
  }),
  fields: namedTable("field", fieldSpecSchema).default({}),
  input: z.strictObject({
    key: z.array(fieldName).default([]),
    where: z.array(fieldName).default([]),
  }).default({ key: [], where: [] }),
  parts: namedTable("part", partSchema),
});

/** One part as declared. */
export type RelPartSpec = z.output<typeof partSchema>;

/** A compiled part. */
export interface RelPart {
  readonly name: string;
  readonly spec: RelPartSpec;
  /** Parts whose results this part needs. */
  readonly after: readonly string[];
  readonly key?: ReadonlyMap<string, ValueSource>;
  readonly where?: ReadonlyMap<string, ValueSource>;
  readonly data?: ReadonlyMap<string, ValueSource>;
}

/** A compiled REL template. */
export interface RelTemplate {
  readonly kind: "rel";
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly concurrency: number;
  readonly fields: Readonly<Record<string, z.output<typeof fieldSpecSchema>>>;
  readonly checks: ReadonlyMap<string, FieldCheck>;
  readonly input: { readonly key: readonly string[]; readonly where: readonly string[] };
  /** Parts in a dependency-respecting order. */
  readonly parts: readonly RelPart[];
}

/** Parses `$key.F`, `$where.F`, `$parts.P[.F]` or a literal. */
export function parseSource(value: string | number | boolean | null): ValueSource | undefined {
  return parseValueSource(value, ["key", "where"], "parts");
}

/** Orders parts so each comes after the parts it needs; undefined on a cycle (with its path). */
export function orderParts(
  after: ReadonlyMap<string, readonly string[]>,
): { order: string[] } | { cycle: string[] } {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    for (const dep of after.get(name) ?? []) {
      const cycle = visit(dep, [...path, name]);
      if (cycle) return cycle;
    }
    state.set(name, "done");
    order.push(name);
    return undefined;
  };
  for (const name of after.keys()) {
    const cycle = visit(name, []);
    if (cycle) return { cycle };
  }
  return { order };
}

/** Compiles a parsed REL file; references to other templates are checked by {@link linkRelTemplate}. */
export function compileRelTemplate(file: string, raw: unknown): RelTemplate {
  const t = parseTemplate(relTemplateSchema, file, raw);
  for (const list of ["key", "where"] as const) {
    for (const [i, f] of t.input[list].entries()) {
      if (!Object.hasOwn(t.fields, f)) invalid(file, `input.${list}.${i}`, `"${f}" is not a declared field`);
    }
  }
  const parts: RelPart[] = [];
  const after = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(t.parts)) {
    const deps = new Set<string>();
    const compileMap = (section: "key" | "where" | "data") => {
      const map = spec[section];
      if (!map) return undefined;
      const out = new Map<string, ValueSource>();
      for (const [field, value] of Object.entries(map)) {
        const path = `parts.${name}.${section}.${field}`;
        const source = parseSource(value);
        if (!source) invalid(file, path, `"${value}" is not "$key.F", "$where.F" or "$parts.P.F"`);
        if (source.from === "key" && !t.input.key.includes(source.field)) {
          invalid(file, path, `"${source.field}" is not in input.key`);
        }
        if (source.from === "where" && !t.input.where.includes(source.field)) {
          invalid(file, path, `"${source.field}" is not in input.where`);
        }
        if (source.from === "result") {
          if (!Object.hasOwn(t.parts, source.name)) invalid(file, path, `unknown part "${source.name}"`);
          if (source.name === name) invalid(file, path, "a part cannot depend on itself");
          deps.add(source.name);
        }
        out.set(field, source);
      }
      return out;
    };
    if (spec.op === "call" && !spec.call) invalid(file, `parts.${name}.call`, 'op "call" needs a call name');
    const key = compileMap("key");
    const where = compileMap("where");
    const data = compileMap("data");
    // Dependencies are known only once every value source has been read.
    const part: RelPart = { name, spec, after: [...deps], key, where, data };
    parts.push(part);
    after.set(name, [...part.after]);
  }
  const planned = orderParts(after);
  if ("cycle" in planned) invalid(file, "parts", `dependency cycle ${planned.cycle.join(" → ")}`);
  const byName = new Map(parts.map((p) => [p.name, p]));
  const checks = new Map<string, FieldCheck>();
  for (const [name, spec] of Object.entries(t.fields)) checks.set(name, fieldCheck(name, spec));
  return Object.freeze({
    kind: "rel" as const,
    name: t.template.name,
    description: t.template.description ?? "",
    file,
    concurrency: t.template.concurrency,
    fields: t.fields,
    checks,
    input: t.input,
    parts: planned.order.map((n) => byName.get(n)!),
  });
}

/**
 * Checks that every part names an existing REC template, op or call, and declared fields, gives
 * the op what it requires and no literal or request field whose type the field refuses.
 */
export function linkRelTemplate(rel: RelTemplate, recs: ReadonlyMap<string, RecTemplate>): void {
  for (const part of rel.parts) {
    const path = `parts.${part.name}`;
    const target = recs.get(part.spec.template);
    if (!target) invalid(rel.file, `${path}.template`, `unknown REC template "${part.spec.template}"`);
    if (part.spec.op === "read" && !target.ops.read) {
      invalid(rel.file, `${path}.op`, `template "${target.name}" has no read`);
    }
    if (part.spec.op === "call" && !target.calls.has(part.spec.call!)) {
      invalid(rel.file, `${path}.call`, `template "${target.name}" has no call "${part.spec.call}"`);
    }
    for (const section of ["key", "where", "data"] as const) {
      for (const field of part[section]?.keys() ?? []) {
        if (!Object.hasOwn(target.fields, field)) {
          invalid(rel.file, `${path}.${section}.${field}`, `"${field}" is not a field of "${target.name}"`);
        }
      }
    }
    linkPartOp(rel.file, path, part, target);
    checkLiterals(rel.file, path, part, target);
    checkSourceTypes(rel.file, path, part, rel.fields, target);
  }
}

/**
 * Checks that the target op takes what the part sends, as dispatch will check each request: a part
 * it would refuse every time is refused here, when the template is loaded.
 */
function linkPartOp(file: string, path: string, part: RelPart, target: RecTemplate): void {
  const { spec } = part;
  const names = (section: "key" | "where" | "data") => [...part[section]?.keys() ?? []];
  const only = (section: "key" | "where" | "data", allowed: readonly string[], what: string) => {
    for (const field of names(section)) {
      if (!allowed.includes(field)) invalid(file, `${path}.${section}.${field}`, `"${field}" is not ${what}`);
    }
  };
  const none = (key: "where" | "data" | "order" | "limit", what: string) => {
    const given = key === "where" || key === "data" ? part[key] : spec[key];
    if (given !== undefined) invalid(file, `${path}.${key}`, `${what} takes no ${key}`);
  };
  if (spec.op === "call") {
    const call = target.calls.get(spec.call!)!;
    only("key", call.params, `a param of call "${spec.call}"`);
    only("data", call.params, `a param of call "${spec.call}"`);
    none("where", "a call");
    none("order", "a call");
    none("limit", "a call");
    const required = requiredFields(target.fields, "call", call);
    checkRequired(file, path, part, required, `call "${spec.call}" of "${target.name}"`);
    return;
  }
  const read = target.ops.read!;
  none("data", "a read");
  if (read.procedure) {
    only("key", read.params, `a param of "${target.name}"'s read`);
    only("where", read.params, `a param of "${target.name}"'s read`);
    none("order", "a procedure read");
    // Dispatch passes a procedure read's key and where together as its params.
    checkRequired(file, path, part, requiredFields(target.fields, "read", read), `"${target.name}"'s read`);
    return;
  }
  if (part.key) {
    const keyFields = read.key ?? [];
    only("key", keyFields, `in the read key of "${target.name}"`);
    const missing = keyFields.find((field) => !part.key!.has(field));
    if (missing) invalid(file, `${path}.key`, `"${target.name}"'s read key needs "${missing}" too`);
  }
  only("where", read.where, `allowed in where by "${target.name}"`);
  for (const term of spec.order ?? []) {
    const field = term.startsWith("-") ? term.slice(1) : term;
    if (!read.order.includes(field)) {
      invalid(file, `${path}.order`, `"${field}" is not allowed in order by "${target.name}"`);
    }
  }
}
