/**
 * Pure request → adapter input translation. Every field name is checked
 * against the template (declared, allowed for the op) and every value
 * against its declared type, so an adapter sees only checked values.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import type { LimitsConfig } from "../config/mod.ts";
import type { Request } from "../protocol/mod.ts";
import { type CallSpec, type ProcedureOpSpec, type RecTemplate, requiredFields } from "../templates/mod.ts";
import type { OrderBy, ReadInput, Values } from "../adapters/mod.ts";

const MAX_IN_LIST = 1000;
// Shared by every read that has none: a read by key (most of a fan-out's parts) allocates only its key.
const NO_WHERE: ReadonlyMap<string, unknown[]> = new Map();
const NO_VALUES: Values = new Map();
const NO_ORDER: readonly OrderBy[] = Object.freeze([]);

function invalid(message: string, field?: string): never {
  throw new BedsError("VALIDATION", message, field ? { details: { field } } : {});
}

function checked(template: RecTemplate, field: string, value: unknown): unknown {
  const check = template.checks.get(field);
  if (!check) invalid(`Unknown field "${field}" for template "${template.name}"`, field);
  return check(value);
}

function reject(request: Request, keys: ReadonlyArray<keyof Request>): void {
  for (const key of keys) {
    if (request[key] !== undefined) {
      throw new BedsError("BAD_REQUEST", `Op "${request.op}" does not take "${key}"`);
    }
  }
}

/** Merges `key` and `data` into checked values accepted by `params`. */
function paramValues(
  template: RecTemplate,
  request: Request,
  params: readonly string[],
  required: readonly string[],
): Values {
  const values = new Map<string, unknown>();
  // Sent as null: a json field that is not nullable turns null into the text "null", still no value.
  const nulls = new Set<string>();
  for (const source of [request.data, request.key]) {
    for (const [field, value] of Object.entries(source ?? {})) {
      if (value === null) nulls.add(field);
      const v = checked(template, field, value);
      if (!params.includes(field)) {
        invalid(`Field "${field}" is not accepted by ${request.op} of "${template.name}"`, field);
      }
      if (values.has(field) && values.get(field) !== v) {
        invalid(`Field "${field}" differs between key and data`, field);
      }
      values.set(field, v);
    }
  }
  for (const field of required) {
    if (!values.has(field) || values.get(field) === null || nulls.has(field)) {
      invalid(`Field "${field}" is required`, field);
    }
  }
  return values;
}

/** Builds the adapter input of a read. */
export function readInput(template: RecTemplate, request: Request, limits: LimitsConfig): ReadInput {
  const spec = template.ops.read!;
  reject(request, ["data"]);
  const limit = request.limit ?? limits.default_read_limit;
  if (limit > limits.max_read_limit) {
    invalid(`Limit ${limit} exceeds the maximum of ${limits.max_read_limit}`, "limit");
  }
  if (spec.procedure) {
    reject(request, ["order"]);
    const merged = { ...request, data: { ...request.where } };
    const params = paramValues(template, { ...merged, where: undefined }, spec.params, spec.required ?? []);
    return { template, where: NO_WHERE, order: NO_ORDER, limit, offset: request.offset ?? 0, params };
  }
  let where = NO_WHERE;
  if (request.where) {
    const map = new Map<string, unknown[]>();
    for (const [field, value] of Object.entries(request.where)) {
      const list = Array.isArray(value) ? value : [value];
      if (!Object.hasOwn(template.fields, field)) {
        invalid(`Unknown field "${field}" for template "${template.name}"`, field);
      }
      if (!spec.where.includes(field)) invalid(`Field "${field}" is not allowed in where`, field);
      if (list.length === 0 || list.length > MAX_IN_LIST) {
        invalid(`Field "${field}" takes 1 to ${MAX_IN_LIST} values`, field);
      }
      map.set(field, list.map((v) => checked(template, field, v)));
    }
    where = map;
  }
  let key: Values | undefined;
  if (request.key !== undefined) {
    const keyFields = spec.key ?? [];
    const entries = Object.entries(request.key);
    if (!keyFields.length) invalid(`Template "${template.name}" has no read key`);
    for (const field of keyFields) {
      if (!Object.hasOwn(request.key, field)) invalid(`Key field "${field}" is required`, field);
    }
    const map = new Map<string, unknown>();
    for (const [field, value] of entries) {
      const v = checked(template, field, value);
      if (!keyFields.includes(field)) invalid(`Field "${field}" is not part of the key`, field);
      map.set(field, v);
    }
    key = map;
    // The key names the row; a where on a key field would either repeat it or contradict it (as the
    // store's collation decides, not this code), and the adapters would keep only one of the two.
    for (const field of map.keys()) {
      if (where.has(field)) invalid(`Field "${field}" is in the read key and cannot also be in where`, field);
    }
  }
  const order = request.order?.length
    ? request.order.map((term): OrderBy => {
      const desc = term.startsWith("-");
      const field = desc ? term.slice(1) : term;
      if (!spec.order.includes(field)) invalid(`Field "${field}" is not allowed in order`, field);
      return { field, desc };
    })
    : NO_ORDER;
  return { template, key, where, order, limit, offset: request.offset ?? 0, params: NO_VALUES };
}

/** Builds the checked values of a create, update or delete. */
export function writeValues(template: RecTemplate, request: Request, spec: ProcedureOpSpec): Values {
  reject(request, ["where", "limit", "offset", "order"]);
  return paramValues(template, request, spec.params, requiredFields(template.fields, request.op, spec));
}

/** Builds the checked values of a named call. */
export function callValues(template: RecTemplate, request: Request, spec: CallSpec): Values {
  reject(request, ["where", "limit", "offset", "order"]);
  return paramValues(template, request, spec.params, requiredFields(template.fields, "call", spec));
}
