/**
 * TXN templates: run the steps in order inside one adapter transaction. The
 * first failing step rolls everything back and names itself in the error.
 *
 * @module
 */
import { BedsError, toErrorBody } from "../errors.ts";
import type { Request } from "../protocol/mod.ts";
import type { RecTemplate, Registry, StepSource, TxnTemplate } from "../templates/mod.ts";
import type { Adapter, AdapterResult } from "../adapters/mod.ts";
import { callValues, writeValues } from "./inputs.ts";

/** One step's outcome, in the reply's data array. */
export interface StepResult {
  step: string;
  data: unknown;
  rows: number;
}

function checkInput(txn: TxnTemplate, request: Request): void {
  if (request.where !== undefined || request.call !== undefined) {
    throw new BedsError("BAD_REQUEST", `Transaction "${txn.name}" takes only key and data`);
  }
  for (const [section, allowed] of [["key", txn.input.key], ["data", txn.input.data]] as const) {
    for (const [field, value] of Object.entries(request[section] ?? {})) {
      const check = txn.checks.get(field);
      if (!check || !allowed.includes(field)) {
        throw new BedsError("VALIDATION", `Field "${field}" is not accepted in ${section} of "${txn.name}"`, {
          details: { field },
        });
      }
      check(value);
    }
  }
  for (const field of txn.input.required) {
    if (request.key?.[field] === undefined && request.data?.[field] === undefined) {
      throw new BedsError("VALIDATION", `Field "${field}" is required`, { details: { field } });
    }
  }
}

function resolve(
  sources: ReadonlyMap<string, StepSource> | undefined,
  request: Request,
  done: ReadonlyMap<string, unknown>,
): Record<string, unknown> | undefined {
  if (!sources) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, source] of sources) {
    let value: unknown;
    if (source.from === "literal") value = source.value;
    else if (source.from === "step") {
      const data = done.get(source.step);
      const row = Array.isArray(data) ? data[0] : data;
      value = source.field === undefined
        ? row
        : row !== null && typeof row === "object" && Object.hasOwn(row, source.field)
        ? (row as Record<string, unknown>)[source.field]
        : undefined;
    } else value = request[source.from]?.[source.field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Runs a TXN request. */
export async function runTransaction(
  txn: TxnTemplate,
  request: Request,
  registry: Registry,
  adapters: ReadonlyMap<string, Adapter>,
): Promise<AdapterResult> {
  if (request.op !== "create") {
    throw new BedsError("OP_NOT_ALLOWED", `Transaction "${txn.name}" is run with op "create"`);
  }
  checkInput(txn, request);
  const targets = txn.steps.map((s) => registry.get(s.spec.template) as RecTemplate);
  const adapter = adapters.get(targets[0]!.store);
  if (!adapter?.transaction) {
    throw new BedsError("OP_NOT_ALLOWED", `Store "${targets[0]!.store}" does not run transactions`);
  }
  return await adapter.transaction(async (scope) => {
    const done = new Map<string, unknown>();
    const results: StepResult[] = [];
    for (const [i, step] of txn.steps.entries()) {
      const { spec } = step;
      const template = targets[i]!;
      try {
        const part: Request = {
          template: spec.template,
          op: spec.op,
          ...(spec.call ? { call: spec.call } : {}),
          ...(step.key ? { key: resolve(step.key, request, done) } : {}),
          ...(step.data ? { data: resolve(step.data, request, done) } : {}),
        };
        const result = spec.op === "call"
          ? await scope.call({
            template,
            call: spec.call!,
            values: callValues(template, part, template.calls.get(spec.call!)!),
          })
          : await scope[spec.op]({ template, values: writeValues(template, part, template.ops[spec.op]!) });
        done.set(spec.name, result.data);
        results.push({ step: spec.name, data: result.data, rows: result.rows });
      } catch (error) {
        const body = toErrorBody(error);
        throw new BedsError(body.code, `Step "${spec.name}" failed: ${body.message}`, {
          cause: error,
          details: { step: spec.name, index: i, ...(body.details ? { cause: body.details } : {}) },
        });
      }
    }
    return { data: results, rows: results.reduce((n, r) => n + r.rows, 0) };
  });
}
