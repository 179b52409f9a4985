/**
 * The vocabulary of the hostile-input generators: plausible base requests
 * against the lab templates, SQL fragments, unicode edge cases, odd number
 * texts, prototype keys, and "one thing wrong" mutations. Bodies are built as
 * JSON text by {@link jsonText}, so duplicate keys, own `__proto__` keys and
 * number literals such as `1e309` or `-0` reach the wire exactly as written.
 *
 * @module
 */
import fc from "fast-check";
import type { Op } from "../../src/config/mod.ts";

/** A JSON object kept as ordered pairs (duplicates and `__proto__` allowed). */
export class Obj {
  constructor(readonly pairs: Array<[string, unknown]>) {}
}

/** A literal piece of JSON text (number literals JSON.stringify cannot write). */
export class Raw {
  constructor(readonly text: string) {}
}

/** Anything {@link jsonText} can write. */
export type Body = unknown;

/** Writes `body` as JSON text; {@link Obj} and {@link Raw} are written verbatim. */
export function jsonText(body: Body): string {
  if (body instanceof Raw) return body.text;
  if (body instanceof Obj) {
    return `{${body.pairs.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  }
  if (Array.isArray(body)) return `[${body.map(jsonText).join(",")}]`;
  if (body !== null && typeof body === "object") return jsonText(toObj(body as Record<string, unknown>));
  if (body === undefined) return "null";
  return JSON.stringify(body);
}

/** Deep-converts plain objects to {@link Obj}. */
export function toObj(value: Record<string, unknown>): Obj {
  const convert = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(convert)
      : v !== null && typeof v === "object" && !(v instanceof Obj) && !(v instanceof Raw)
      ? toObj(v as Record<string, unknown>)
      : v;
  return new Obj(Object.entries(value).map(([k, v]) => [k, convert(v)]));
}

/** The object under `name` in `body`, created (or replaced by an object) if needed. */
export function section(body: Obj, name: string): Obj {
  const pair = body.pairs.find(([k]) => k === name);
  if (pair && pair[1] instanceof Obj) return pair[1];
  const inner = new Obj([]);
  if (pair) pair[1] = inner;
  else body.pairs.push([name, inner]);
  return inner;
}

/** A valid request against the lab templates, used as the starting point of a hostile one. */
export interface BaseRequest {
  template: string;
  op: Op;
  body: Record<string, unknown>;
}

function base(template: string, op: Op, rest: Record<string, unknown>): BaseRequest {
  return { template, op, body: { template, op, ...rest } };
}

/** Valid requests of every op over the lab templates (REC, REL and TXN). */
export const BASE_REQUESTS: readonly BaseRequest[] = [
  base("cus", "read", { key: { id: 1 } }),
  base("cus", "read", {
    where: { email: "ana.garcia@example.com", status: "active" },
    limit: 5,
    order: ["-id"],
  }),
  base("prd", "read", { where: { sku: "PRD-0001" } }),
  base("ord", "read", { where: { customer_id: 1 }, order: ["id"], offset: 1 }),
  base("cov", "read", { key: { id: 1 } }),
  base("dsh", "read", {}),
  base("cus", "create", { data: { email: "hostile@example.com", name: "Hostile" } }),
  base("cus", "update", { key: { id: 3 }, data: { name: "Changed", status: "suspended" } }),
  base("cus", "delete", { key: { id: 20 } }),
  base("prd", "create", { data: { sku: "HOS-0001", name: "Hostile", price: "1.00", stock: 1 } }),
  base("prd", "update", { key: { id: 1 }, data: { stock: 5, price: "2.50" } }),
  base("prd", "delete", { key: { id: 30 } }),
  base("ord", "create", { data: { customer_id: 2, product_id: 1, qty: 1 } }),
  base("cus", "call", { call: "order_total", key: { id: 1 } }),
  base("cus", "call", { call: "orders", key: { id: 1 } }),
  base("ord", "call", { call: "cancel", key: { id: 1 } }),
  base("cat", "create", {
    data: { a_sku: "HOS-0002", a_name: "A", b_sku: "HOS-0003", b_name: "B", price: "3.00", stock: 2 },
  }),
];

/** The first field of section `at` of a base request, or a field its template declares. */
export function firstField(b: BaseRequest, at: string): string {
  const inner = b.body[at];
  const name = inner && typeof inner === "object" ? Object.keys(inner)[0] : undefined;
  return name ?? (b.template === "prd" ? "sku" : b.template === "cus" ? "email" : "id");
}

/** A numeric field of the base request's template. */
export function numericField(b: BaseRequest): string {
  return b.template === "ord" ? "qty" : b.template === "prd" ? "stock" : "id";
}

/** SQL injection fragments. */
export const SQL_FRAGMENTS = [
  "' OR '1'='1",
  "' OR 1=1 -- ",
  "'; DROP TABLE customers; --",
  '"; DROP TABLE products; --',
  "1; DELETE FROM orders",
  "1 OR 1=1",
  "' UNION SELECT user, password FROM mysql.user -- ",
  "') OR ('a'='a",
  "admin'--",
  "'; UPDATE products SET stock = 0; --",
  "1' AND SLEEP(5) AND '1'='1",
  "' AND BENCHMARK(10000000, SHA1(1)) -- ",
  "%' OR '%'='",
  "*/ OR 1=1 /*",
  "\\'; TRUNCATE order_items; -- ",
  "`id`; DROP DATABASE beds; --",
  "0x27204f52202731273d2731",
  "CHAR(39)||CHAR(39)",
  "'; CALL sp_prd_delete(1); --",
  "'; SET GLOBAL read_only = 1; --",
  "$(rm -rf /)",
  "${jndi:ldap://x/a}",
  '{"$gt": ""}',
  "'; SELECT LOAD_FILE('/etc/passwd'); --",
];

/** Unicode edge cases: lone surrogates, RTL and zero-width marks, NUL, emoji, controls. */
export const UNICODE_EDGES = [
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "a\ud83d",
  "\ude00b",
  "\u202e",
  "\u202egnp.exe",
  "\u200f\u202b",
  "\u200b",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "\u{10ffff}",
  "\uffff",
  "\ufffe",
  "e\u0301\u0301\u0301",
  "İı",
  "ß",
  "\u2028\u2029",
  "\u0085",
  "\r\n\t",
  "עברית",
  "العربية\u061c",
  "Z̤͔ͧ̑̓ä͖̭̈̇",
  "𝕏𝔂",
  "\\",
  '"',
  "'",
  "%00",
  "%s%n%x",
  "{{7*7}}",
];

/** Byte sequences that are not valid UTF-8 (or not valid inside a JSON string). */
export const BAD_UTF8: readonly Uint8Array[] = [
  [0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xc3],
  [0xfe, 0xff],
  [0x00],
  [0x0a],
  [0xef, 0xbb, 0xbf],
].map((b) => new Uint8Array(b));

/** Number literals and number-like strings, some not even JSON. */
export const NUMBER_TEXTS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "0",
  "1e308",
  "-1e308",
  "1e309",
  "1e-400",
  "5e-324",
  "9007199254740993",
  "-9007199254740993",
  "4294967296",
  "0.5",
  "-1",
  "1.0",
  "2e0",
  "0x10",
  "01",
  "1_000",
  "+1",
  ".5",
  '"NaN"',
  '"Infinity"',
  '"-0"',
  '"1e308"',
  '"0x1F"',
  '" 1"',
  '"1 OR 1=1"',
  '"١"',
  '"9999999999999999999999"',
  "true",
  "null",
  "[]",
  "{}",
  "[1e308]",
];

/** Number texts that are valid JSON. */
const JSON_NUMBER_TEXTS = NUMBER_TEXTS.filter((t) => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
});

/** The keys of prototype pollution. */
export const PROTO_KEYS = ["__proto__", "constructor", "prototype"];

/** Top-level keys of the request envelope. */
export const TOP_KEYS = [
  "template",
  "op",
  "call",
  "key",
  "data",
  "where",
  "limit",
  "offset",
  "order",
  "event",
  "deadline_ms",
  "v",
];

const PLAUSIBLE = [
  "cus",
  "prd",
  "ord",
  "read",
  "create",
  "call",
  "active",
  "PRD-0001",
  "ana.garcia@example.com",
];

/** Field and object keys that have no business in a request. */
export const HOSTILE_KEYS = [
  ...PROTO_KEYS,
  "toString",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
  "__lookupSetter__",
  "isPrototypeOf",
  "then",
  "length",
  "",
  " ",
  "id ",
  "ID",
  "id;--",
  "email' OR '1'='1",
  "$where",
  "$gt",
  "`id`",
  "a.b",
  "0",
];

/** A hostile string: SQL, unicode edges, random code points or a plausible word. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SQL_FRAGMENTS),
  fc.constantFrom(...UNICODE_EDGES),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.constantFrom(...PLAUSIBLE),
);

/** A hostile object key. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_KEYS),
  fc.constantFrom("id", "email", "name", "sku", "qty", "status", "price", "stock", "customer_id"),
  fc.string({ unit: "binary", maxLength: 10 }),
);

/** Any JSON value, biased to the hostile: odd numbers, hostile strings and keys, some nesting. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3 },
    fc.constantFrom(...JSON_NUMBER_TEXTS).map((t) => new Raw(t)),
    hostileString,
    fc.constantFrom(true, false, null, 0, 1, -1),
    fc.integer(),
    fc.double(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie("value")), { maxLength: 4 }).map((pairs) => new Obj(pairs)),
  ),
})).value;

const NAME_KEYS = new Set(["template", "op", "call", "order"]);

/**
 * Copies `body` with every string value replaced by `f(value)`. The strings
 * that name things (template, op, call, order terms) are replaced only when
 * `inNames` is set; values always are.
 */
export function mapStrings(body: Record<string, unknown>, f: (s: string) => string, inNames: boolean): Body {
  const walk = (value: unknown, top?: string): unknown => {
    if (typeof value === "string") return !inNames && top && NAME_KEYS.has(top) ? value : f(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, top));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, top)]));
    }
    return value;
  };
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, walk(v, k)]));
}
