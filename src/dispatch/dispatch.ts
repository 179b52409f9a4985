/**
 * Transport-free dispatch: request → template → op checks → adapter. It
 * knows nothing of AMQP, so it is unit-testable with a fake adapter.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import type { LimitsConfig, Op } from "../config/mod.ts";
import type { Request } from "../protocol/mod.ts";
import { isAdminTemplate, type RecTemplate, type Registry } from "../templates/mod.ts";
import { type PartRecord, runFanOut } from "./fanout.ts";
import { runTransaction } from "./transaction.ts";
import type { Adapter, AdapterResult } from "../adapters/mod.ts";
import { callValues, readInput, writeValues } from "./inputs.ts";
import type { AccessPolicy } from "./access.ts";

/** What dispatch needs, passed in by the broker pool. */
export interface DispatchDeps {
  /** The current registry snapshot. */
  registry: () => Registry;
  /** Adapters by store name. */
  adapters: ReadonlyMap<string, Adapter>;
  limits: LimitsConfig;
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /** Who may run what; none = everyone may run everything. */
  access?: AccessPolicy;
}

/** Who asks and under which event, passed per request by the consumer. */
export interface DispatchContext {
  /** The request's event id; fan-out parts get child ids of it. */
  event: string;
  /** RabbitMQ-validated user of the publisher, if any. */
  user?: string;
  /**
   * The request came through the admin exchange (the log store, the fleet's status, the system
   * log): only a grant naming its template allows it, not a wildcard such as `read.*` meant for
   * the data templates.
   */
  byName?: boolean;
}

/** What dispatch returns: the reply's data and rows, plus meta for fan-outs. */
export interface DispatchResult extends AdapterResult {
  /** Extra reply meta (REL: per-part timings and optional-part errors). */
  meta?: Record<string, unknown>;
  /** Child events of a fan-out, for the log store. */
  parts?: PartRecord[];
}

/**
 * Runs one request for a broker that may run `ops`. The registry snapshot is
 * taken once, so a request (and all its fan-out parts) sees one snapshot even
 * if a reload swaps it meanwhile.
 * @throws {BedsError} with the wire code of the failure.
 */
export async function dispatch(
  request: Request,
  ops: ReadonlySet<Op>,
  deps: DispatchDeps,
  ctx: DispatchContext = { event: "" },
): Promise<DispatchResult> {
  // Before any lookup, so a user without a grant learns nothing about the templates.
  deps.access?.check(ctx.user, request.op, request.template, ctx.byName);
  const registry = deps.registry();
  const template = registry.get(request.template);
  // The admin role's templates are granted by name, whichever exchange the request came through (a
  // role that binds brokers on both serves them to its data brokers too): a wildcard grant that
  // passed above does not cover them.
  if (!ctx.byName && template !== undefined && isAdminTemplate(template)) {
    deps.access?.check(ctx.user, request.op, request.template, true);
  }
  if (!template) {
    throw new BedsError("UNKNOWN_TEMPLATE", `Unknown template "${request.template}"`);
  }
  if (!ops.has(request.op)) {
    throw new BedsError("OP_NOT_ALLOWED", `Op "${request.op}" is not served by this broker`);
  }
  if (request.deadline_ms !== undefined && request.deadline_ms <= (deps.now ?? Date.now)()) {
    throw new BedsError("DEADLINE_EXCEEDED", "Request deadline passed before it could run");
  }
  if (template.kind === "rel") {
    if (request.op !== "read") throw notAllowed(request.op, template.name);
    const runPart = (part: Request) => {
      const target = registry.get(part.template);
      if (target?.kind !== "rec") throw new BedsError("INTERNAL", `Part template "${part.template}" is gone`);
      return runRec(target, part, deps);
    };
    const result = await runFanOut(template, request, runPart, (i) => `${ctx.event}.${i}`);
    const parts: Record<string, unknown> = {};
    for (const p of result.parts) {
      const entry: Record<string, unknown> = { event: p.event, ms: p.ms, rows: p.rows };
      if (p.code) entry.code = p.code;
      parts[p.part] = entry;
    }
    return {
      data: result.data,
      rows: result.rows,
      meta: result.errors.length ? { parts, errors: result.errors } : { parts },
      parts: result.parts,
    };
  }
  if (template.kind === "txn") {
    return await runTransaction(template, request, registry, deps.adapters);
  }
  return await runRec(template, request, deps);
}

/**
 * The REC path: op checks, value checks, adapter call. Not `async`: it hands back the adapter's
 * promise rather than wrapping it in another (one frame less per fan-out part); a failed check
 * throws, and every caller awaits it inside its own `try` or `async` function.
 */
function runRec(template: RecTemplate, request: Request, deps: DispatchDeps): Promise<AdapterResult> {
  const adapter = deps.adapters.get(template.store);
  if (!adapter) {
    throw new BedsError("DB_UNAVAILABLE", `No ${template.store} adapter is configured on this node`);
  }
  switch (request.op) {
    case "read": {
      if (!template.ops.read) throw notAllowed(request.op, template.name);
      return adapter.read(readInput(template, request, deps.limits));
    }
    case "create":
    case "update":
    case "delete": {
      const spec = template.ops[request.op];
      if (!spec) throw notAllowed(request.op, template.name);
      return adapter[request.op]({ template, values: writeValues(template, request, spec) });
    }
    case "call": {
      const spec = template.calls.get(request.call!);
      if (!spec) {
        throw new BedsError("OP_NOT_ALLOWED", `Template "${template.name}" has no call "${request.call}"`);
      }
      return adapter.call({
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
