/**
 * The request envelope (wire protocol v1) and its decoder. Decoding never
 * throws anything but a {@link BedsError} with a wire code.
 *
 * @module
 */
import { z } from "zod";
import { OPS } from "../config/mod.ts";
import { BedsError } from "../errors.ts";
import { EVENT_ID_PATTERN, MAX_PARENT_LENGTH, MAX_PARENT_PARTS } from "./event_id.ts";
import { MisreadKeyError, parseExact } from "./exact_numbers.ts";

/** Template names are three-letter acronyms or short snake_case names. */
export const TEMPLATE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** Field, call and order names. */
export const FIELD_NAME = /^[a-z_][a-z0-9_]{0,63}$/;

const ORDER_TERM_PATTERN = /^-?[a-z_][a-z0-9_]{0,63}$/;

const fieldMap = z.record(z.string(), z.unknown());

/** The dot-separated words of an event id. */
function partsOf(id: string): number {
  let parts = 1;
  for (let i = id.indexOf("."); i >= 0; i = id.indexOf(".", i + 1)) parts++;
  return parts;
}

/** zod schema of the request body. Unknown top-level keys are rejected. */
export const requestSchema = z.strictObject({
  v: z.literal(1).optional(),
  template: z.string().regex(TEMPLATE_NAME, { message: "expected a template name" }),
  op: z.enum(OPS),
  call: z.string().regex(FIELD_NAME, { message: "expected a call name" }).optional(),
  key: fieldMap.optional(),
  data: fieldMap.optional(),
  where: fieldMap.optional(),
  limit: z.number().int().min(0).optional(),
  offset: z.number().int().min(0).optional(),
  order: z.array(
    z.string().regex(ORDER_TERM_PATTERN, {
      message: 'expected "field" or "-field"',
    }),
  ).max(8).optional(),
  event: z.strictObject({
    parent: z.string().max(MAX_PARENT_LENGTH).regex(EVENT_ID_PATTERN, {
      message: "expected an event id (dot-separated words of letters, digits, '_' or '-')",
    }).refine((parent) => partsOf(parent) <= MAX_PARENT_PARTS, {
      message: `expected at most ${MAX_PARENT_PARTS} dot-separated words`,
    }),
  }).optional(),
  deadline_ms: z.number().int().positive().optional(),
});

/**
 * A decoded, shape-checked request. Field values are checked by dispatch; a number among them that a
 * double would change is raw JSON of its literal (see {@link parseRequestText}).
 */
export type Request = z.output<typeof requestSchema>;

const decoder = new TextDecoder("utf-8", { fatal: true });

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") return `unknown key "${issue.keys[0]}"`;
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Options for {@link decodeRequest}. */
export interface DecodeOptions {
  /**
   * The size the body was published with, when only its start was kept (the frame guard cuts a
   * body past the node's limit as it arrives). @default the body's own length
   */
  publishedSize?: number;
}

/**
 * Decodes and shape-checks one request body.
 * @throws {BedsError} `TOO_LARGE` past `maxBytes`, `BAD_REQUEST` otherwise.
 */
export function decodeRequest(body: Uint8Array, maxBytes: number, options?: DecodeOptions): Request {
  const size = Math.max(options?.publishedSize ?? 0, body.byteLength);
  if (size > maxBytes) {
    throw new BedsError(
      "TOO_LARGE",
      `Request body of ${size} bytes exceeds the limit of ${maxBytes}`,
      { details: { limit: maxBytes, size } },
    );
  }
  if (size > body.byteLength) {
    // Cut under a lower limit than this one: what is left is not the request.
    throw new BedsError(
      "BAD_REQUEST",
      `Request body of ${size} bytes was kept cut to its first ${body.byteLength} bytes`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseRequestText(decoder.decode(body));
  } catch (error) {
    throw new BedsError("BAD_REQUEST", bodyError(error), { cause: error });
  }
  return checkRequest(parsed);
}

/** What a body that does not parse is told: a key the JSON parser misread says so (MisreadKeyError). */
export function bodyError(error: unknown): string {
  return error instanceof MisreadKeyError ? error.message : "Request body is not valid UTF-8 JSON";
}

/** The sections that hold field values: their numbers are kept as the client wrote them. */
const FIELD_SECTIONS: ReadonlySet<string> = new Set(["key", "data", "where"]);

/**
 * A request body's JSON text parsed, with each number in a field value kept exact where a double
 * would change it (raw JSON of its literal, see exact_numbers.ts: the field checks take its digits).
 * Everywhere else (`limit`, `deadline_ms`, `v`, a section that is no object) a number is the double
 * `JSON.parse` makes, so the shape check judges it and words its message as for any other.
 * Throws as `JSON.parse` does.
 */
export function parseRequestText(text: string): unknown {
  return parseExact(text, FIELD_SECTIONS);
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(requestSchema.shape));
const OP_SET: ReadonlySet<unknown> = new Set(OPS);

const isMap = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The accepting half of {@link requestSchema}, written out: the request when
 * it certainly passes the schema, else undefined, and the schema then gives
 * the verdict and its message. So every error still comes from zod, word for
 * word, while a valid request (nearly every one) skips it.
 *
 * Why: in the bench's `read_key` profile of a node, zod's parse of the request
 * was about 2.9 % of the node's busy time (186 ms under `checkRequest` in an
 * 8 s window). On the same parsed `cus` reads, `requestSchema.safeParse`
 * took 1.0–1.5 µs and `checkRequest` with this check 0.12–0.40 µs (2026-11-28,
 * 2 vCPUs shared with other work). It must never accept what the schema refuses
 * (tests/unit/request_fast_test.ts compares the two on generated requests).
 */
function wellFormed(body: Record<string, unknown>): Request | undefined {
  for (const key in body) if (!KNOWN_KEYS.has(key)) return undefined;
  const { v, template, op, call, key, data, where, limit, offset, order, event, deadline_ms } = body;
  if (v !== undefined && v !== 1) return undefined;
  if (typeof template !== "string" || !TEMPLATE_NAME.test(template)) return undefined;
  if (!OP_SET.has(op)) return undefined;
  if (call !== undefined && (typeof call !== "string" || !FIELD_NAME.test(call))) return undefined;
  if (key !== undefined && !isMap(key)) return undefined;
  if (data !== undefined && !isMap(data)) return undefined;
  if (where !== undefined && !isMap(where)) return undefined;
  if (limit !== undefined && !isCount(limit)) return undefined;
  if (offset !== undefined && !isCount(offset)) return undefined;
  if (deadline_ms !== undefined && !(isCount(deadline_ms) && (deadline_ms as number) > 0)) return undefined;
  if (order !== undefined) {
    if (!Array.isArray(order) || order.length > 8) return undefined;
    for (const term of order) {
      if (typeof term !== "string" || !ORDER_TERM_PATTERN.test(term)) return undefined;
    }
  }
  if (event !== undefined) {
    if (!isMap(event)) return undefined;
    for (const k in event as object) if (k !== "parent") return undefined;
    const parent = (event as { parent?: unknown }).parent;
    if (
      typeof parent !== "string" || parent.length > MAX_PARENT_LENGTH || !EVENT_ID_PATTERN.test(parent) ||
      partsOf(parent) > MAX_PARENT_PARTS
    ) {
      return undefined;
    }
  }
  return body as Request;
}

/** Shape-checks an already parsed request body. */
export function checkRequest(parsed: unknown): Request {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BedsError("BAD_REQUEST", "Request body must be a JSON object");
  }
  // zod's record silently drops an own "__proto__" key (JSON.parse keeps it),
  // which would lose a where filter or a data field: reject it like any
  // undeclared field instead.
  for (const part of ["key", "data", "where"]) {
    const map = (parsed as Record<string, unknown>)[part];
    if (typeof map === "object" && map !== null && Object.hasOwn(map, "__proto__")) {
      throw new BedsError("VALIDATION", 'Unknown field "__proto__"', { details: { field: "__proto__" } });
    }
  }
  const fast = wellFormed(parsed as Record<string, unknown>);
  if (fast) return withCallRule(fast);
  const result = requestSchema.safeParse(parsed);
  if (!result.success) {
    throw new BedsError("BAD_REQUEST", `Invalid request: ${describe(result.error.issues[0]!)}`, {
      details: { issues: result.error.issues.slice(0, 5).map(describe) },
    });
  }
  return withCallRule(result.data);
}

/**
 * `call` names the procedure of op "call" and nothing else: sent with another op it would be
 * ignored (and the log would record a call that never ran).
 */
function withCallRule(request: Request): Request {
  if (request.op === "call" && !request.call) {
    throw new BedsError("BAD_REQUEST", 'Invalid request: op "call" needs a "call" name');
  }
  if (request.op !== "call" && request.call !== undefined) {
    throw new BedsError("BAD_REQUEST", `Invalid request: op "${request.op}" does not take "call"`);
  }
  return request;
}

/** The routing key of a request: `<op>.<template>`. */
export function routingKey(op: string, template: string): string {
  return `${op}.${template}`;
}
