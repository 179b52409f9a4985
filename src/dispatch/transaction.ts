/**
 * TXN templates: run the steps in order inside one adapter transaction. The
 * first failing step rolls everything back and names itself in the error.
 *
 * @module
 */
import { BedsError, toErrorBody } from "../errors.ts";
import type { Request } from "../protocol/mod.ts";
import type { RecTemplate, Registry, TxnTemplate } from "../templates/mod.ts";
import type { Adapter, AdapterResult } from "../adapters/mod.ts";
import { callValues, writeValues } from "./inputs.ts";
import { checkInput, resolveValues } from "./values.ts";

/** One step's outcome, in the reply's data array. */
export interface StepResult {
  step: string;
  data: unknown;
  rows: number;
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
  checkInput(
    txn.name,
    txn.checks,
    [["key", txn.input.key], ["data", txn.input.data]],
    txn.input.required,
    request,
  );
  const targets = txn.steps.map((s) => registry.get(s.spec.template) as RecTemplate);
  const adapter = adapters.get(targets[0]!.store);
  if (!adapter) {
    throw new BedsError("DB_UNAVAILABLE", `No ${targets[0]!.store} adapter is configured on this node`);
  }
  if (!adapter.transaction) {
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
          ...(step.key ? { key: resolveValues(step.key, request, done, true) } : {}),
          ...(step.data ? { data: resolveValues(step.data, request, done) } : {}),
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
