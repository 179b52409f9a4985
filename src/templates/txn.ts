/**
 * Transaction (TXN) templates: several REC write procedures or calls run in
 * order in one database transaction on one connection, all-or-nothing. A
 * step takes values from the request (`$data.F`, `$key.F`) or from an
 * earlier step's result (`$steps.S.F`).
 *
 * Procedures used as steps must not commit or start transactions themselves
 * (that would end the outer transaction early); `templates verify` flags
 * those it can see.
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

const stepSchema = z.strictObject({
  name: fieldName,
  description: z.string().optional(),
  template: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  op: z.enum(["create", "update", "delete", "call"]),
  call: fieldName.optional(),
  key: valueMap.optional(),
  data: valueMap.optional(),
});

/** zod schema of a TXN template file. */
export const txnTemplateSchema = z.strictObject({
  template: z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { message: "expected a lowercase template name" }),
    kind: z.literal("txn"),
    description: z.string().optional(),
  }),
  fields: namedTable("field", fieldSpecSchema).default({}),
  input: z.strictObject({
    key: z.array(fieldName).default([]),
    data: z.array(fieldName).default([]),
    required: z.array(fieldName).default([]),
  }).default({ key: [], data: [], required: [] }),
  steps: z.array(stepSchema).min(1),
});

/** A step as declared. */
export type TxnStepSpec = z.output<typeof stepSchema>;

/** A compiled step. */
export interface TxnStep {
  readonly spec: TxnStepSpec;
  readonly key?: ReadonlyMap<string, ValueSource>;
  readonly data?: ReadonlyMap<string, ValueSource>;
}

/** A compiled TXN template. */
export interface TxnTemplate {
  readonly kind: "txn";
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly fields: Readonly<Record<string, z.output<typeof fieldSpecSchema>>>;
  readonly checks: ReadonlyMap<string, FieldCheck>;
  readonly input: {
    readonly key: readonly string[];
    readonly data: readonly string[];
    readonly required: readonly string[];
  };
  readonly steps: readonly TxnStep[];
}

/** Compiles a parsed TXN file; references to REC templates are checked by {@link linkTxnTemplate}. */
export function compileTxnTemplate(file: string, raw: unknown): TxnTemplate {
  const t = parseTemplate(txnTemplateSchema, file, raw);
  for (const list of ["key", "data", "required"] as const) {
    for (const [i, f] of t.input[list].entries()) {
      if (!Object.hasOwn(t.fields, f)) invalid(file, `input.${list}.${i}`, `"${f}" is not a declared field`);
      if (list === "required" && !t.input.key.includes(f) && !t.input.data.includes(f)) {
        invalid(file, `input.required.${i}`, `"${f}" is in neither input.key nor input.data`);
      }
    }
  }
  const earlier = new Set<string>();
  const steps: TxnStep[] = t.steps.map((spec, i) => {
    if (earlier.has(spec.name)) invalid(file, `steps.${i}.name`, `duplicate step name "${spec.name}"`);
    if (spec.op === "call" && !spec.call) invalid(file, `steps.${i}.call`, 'op "call" needs a call name');
    const compileMap = (section: "key" | "data") => {
      const map = spec[section];
      if (!map) return undefined;
      const out = new Map<string, ValueSource>();
      for (const [field, value] of Object.entries(map)) {
        const path = `steps.${i}.${section}.${field}`;
        const source = parseValueSource(value, ["key", "data"], "steps");
        if (!source) invalid(file, path, `"${value}" is not "$key.F", "$data.F" or "$steps.S.F"`);
        if (source.from === "key" && !t.input.key.includes(source.field)) {
          invalid(file, path, `"${source.field}" is not in input.key`);
        }
        if (source.from === "data" && !t.input.data.includes(source.field)) {
          invalid(file, path, `"${source.field}" is not in input.data`);
        }
        if (source.from === "result" && !earlier.has(source.name)) {
          invalid(file, path, `"${source.name}" is not an earlier step`);
        }
        out.set(field, source);
      }
      return out;
    };
    const step = { spec, key: compileMap("key"), data: compileMap("data") };
    earlier.add(spec.name);
    return step;
  });
  const checks = new Map<string, FieldCheck>();
  for (const [name, spec] of Object.entries(t.fields)) checks.set(name, fieldCheck(name, spec));
  return Object.freeze({
    kind: "txn" as const,
    name: t.template.name,
    description: t.template.description ?? "",
    file,
    fields: t.fields,
    checks,
    input: t.input,
    steps,
  });
}

/**
 * Checks steps against the REC templates: ops exist, fields exist, one store and database, each op
 * gets what it requires and no literal or request field whose type its field refuses.
 */
export function linkTxnTemplate(txn: TxnTemplate, recs: ReadonlyMap<string, RecTemplate>): void {
  let first: RecTemplate | undefined;
  for (const [i, step] of txn.steps.entries()) {
    const path = `steps.${i}`;
    const target = recs.get(step.spec.template);
    if (!target) invalid(txn.file, `${path}.template`, `unknown REC template "${step.spec.template}"`);
    if (target.store === "mongodb") {
      invalid(
        txn.file,
        `${path}.template`,
        `template "${target.name}" is on mongodb, which runs no transactions`,
      );
    }
    if (step.spec.op === "call" ? !target.calls.has(step.spec.call!) : !target.ops[step.spec.op]) {
      invalid(
        txn.file,
        `${path}.op`,
        `template "${target.name}" has no ${step.spec.op} ${step.spec.call ?? ""}`.trim(),
      );
    }
    first ??= target;
    if (target.store !== first.store || target.database !== first.database) {
      invalid(txn.file, `${path}.template`, `all steps must use one store and database (one transaction)`);
    }
    // The op's params are what it takes from key and data: a field outside them is refused on
    // every request, so it is refused here.
    const op = step.spec.op === "call" ? target.calls.get(step.spec.call!)! : target.ops[step.spec.op]!;
    const { params } = op;
    for (const section of ["key", "data"] as const) {
      for (const field of step[section]?.keys() ?? []) {
        if (!Object.hasOwn(target.fields, field)) {
          invalid(txn.file, `${path}.${section}.${field}`, `"${field}" is not a field of "${target.name}"`);
        }
        if (!params.includes(field)) {
          invalid(
            txn.file,
            `${path}.${section}.${field}`,
            `"${field}" is not a param of that ${step.spec.op}`,
          );
        }
      }
    }
    const what = step.spec.op === "call"
      ? `call "${step.spec.call}" of "${target.name}"`
      : `"${target.name}"'s ${step.spec.op}`;
    checkRequired(txn.file, path, step, requiredFields(target.fields, step.spec.op, op), what);
    checkLiterals(txn.file, path, step, target);
    checkSourceTypes(txn.file, path, step, txn.fields, target);
  }
}
