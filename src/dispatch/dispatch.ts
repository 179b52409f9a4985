/**
 * Transport-free dispatch: request → template → op checks → adapter. It
 * knows nothing of AMQP, so it is unit-testable with a fake adapter.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import type { LimitsConfig, Op } from "../config/mod.ts";
import type { Request } from "../protocol/mod.ts";
import type { Registry } from "../templates/mod.ts";
import type { Adapter, AdapterResult } from "../adapters/mod.ts";
import { callValues, readInput, writeValues } from "./inputs.ts";

/** What dispatch needs, passed in by the broker pool. */
export interface DispatchDeps {
  /** The current registry snapshot. */
  registry: () => Registry;
  /** Adapters by store name. */
  adapters: ReadonlyMap<string, Adapter>;
  limits: LimitsConfig;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/**
 * Runs one request for a broker that may run `ops`.
 * @throws {BedsError} with the wire code of the failure.
 */
export async function dispatch(
  request: Request,
  ops: ReadonlySet<Op>,
  deps: DispatchDeps,
): Promise<AdapterResult> {
  const template = deps.registry().get(request.template);
  if (!template) {
    throw new BedsError("UNKNOWN_TEMPLATE", `Unknown template "${request.template}"`);
  }
  if (!ops.has(request.op)) {
    throw new BedsError("OP_NOT_ALLOWED", `Op "${request.op}" is not served by this broker`);
  }
  if (request.deadline_ms !== undefined && request.deadline_ms <= (deps.now ?? Date.now)()) {
    throw new BedsError("DEADLINE_EXCEEDED", "Request deadline passed before it could run");
  }
  const adapter = deps.adapters.get(template.store);
  if (!adapter) {
    throw new BedsError("DB_UNAVAILABLE", `No ${template.store} adapter is configured on this node`);
  }
  switch (request.op) {
    case "read": {
      if (!template.ops.read) throw notAllowed(request.op, template.name);
      return await adapter.read(readInput(template, request, deps.limits));
    }
    case "create":
    case "update":
    case "delete": {
      const spec = template.ops[request.op];
      if (!spec) throw notAllowed(request.op, template.name);
      return await adapter[request.op]({ template, values: writeValues(template, request, spec) });
    }
    case "call": {
      const spec = template.calls.get(request.call!);
      if (!spec) {
        throw new BedsError("OP_NOT_ALLOWED", `Template "${template.name}" has no call "${request.call}"`);
      }
      return await adapter.call({
        template,
        call: request.call!,
        values: callValues(template, request, spec),
      });
    }
  }
}

function notAllowed(op: string, template: string): BedsError {
  return new BedsError("OP_NOT_ALLOWED", `Template "${template}" does not allow op "${op}"`);
}
