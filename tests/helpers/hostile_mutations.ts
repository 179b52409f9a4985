/**
 * "One thing wrong": mutations that take a valid lab request and break
 * exactly one thing about it (routing key, envelope, a field, a limit, the
 * deadline). A mutation may by chance leave a request valid; the oracle in
 * hostile.ts sorts those out.
 *
 * @module
 */
import type { Op } from "../../src/config/mod.ts";
import { routingKey } from "../../src/protocol/mod.ts";
import {
  type BaseRequest,
  type Body,
  firstField,
  Obj,
  PROTO_KEYS,
  Raw,
  section,
  toObj,
} from "./hostile_values.ts";

/** A mutation's output: the body, and a routing key if it is not the base request's. */
export interface Mutated {
  body: Body;
  route?: string;
}

/** One way of breaking a valid request; `pick` chooses among variants, `value` is a random value. */
export interface Mutation {
  name: string;
  apply(base: BaseRequest, pick: number, value: unknown): Mutated;
}

const OPS: readonly Op[] = ["create", "read", "update", "delete", "call"];
const TEMPLATES = ["cus", "prd", "ord", "cat", "cov", "dsh"];

const of = <T>(list: readonly T[], pick: number): T => list[pick % list.length]!;
const clone = (base: BaseRequest) => structuredClone(base.body) as Record<string, unknown>;
/** The section that carries the op's fields. */
const mainSection = (base: BaseRequest) =>
  base.op === "read" ? (base.body.key ? "key" : "where") : base.body.data ? "data" : "key";

/** Values outside each lab field's constraints. */
const OUT_OF_RANGE: Record<string, unknown[]> = {
  id: [0, -1, 1.5, 2 ** 53, "1"],
  customer_id: [0, -7, 2 ** 53],
  product_id: [0, 1e21],
  email: ["not-an-email", "a@b", "x".repeat(250) + "@example.com", "two@@example.com", ""],
  name: ["", "x".repeat(101)],
  status: ["deleted", "ACTIVE", "", "placed"],
  sku: ["abc", "ABC-12345", "abc-0001", "ABC_0001", ""],
  price: ["-1.00", "12,50", "1e5x", "", "NaN"],
  stock: [-1, 0.5, "5"],
  qty: [0, 10_001, -1, 2.5],
  a_sku: ["bad"],
  b_sku: ["BAD-1"],
  a_name: ["x".repeat(101)],
};

/** Every mutation. */
export const MUTATIONS: readonly Mutation[] = [
  {
    name: "routing key of another op",
    apply: (base, pick) => ({
      body: clone(base),
      route: routingKey(of(OPS.filter((o) => o !== base.op), pick), base.template),
    }),
  },
  {
    name: "routing key of another template",
    apply: (base, pick) => ({
      body: clone(base),
      route: routingKey(base.op, of([...TEMPLATES, "zzz"].filter((t) => t !== base.template), pick)),
    }),
  },
  {
    name: "duplicate op key",
    apply: (base, pick) => {
      const body = toObj(clone(base));
      body.pairs.push(["op", of(OPS.filter((o) => o !== base.op), pick)]);
      return { body };
    },
  },
  {
    name: "unknown top-level key",
    apply: (base, pick, value) => ({
      body: {
        ...clone(base),
        [of(["limt", "Template", "OP", "keys", "sql", "query", "where ", "$where", "data\u0000"], pick)]:
          value,
      },
    }),
  },
  {
    name: "prototype key at the top",
    apply: (base, pick, value) => {
      const body = toObj(clone(base));
      body.pairs.push([of(PROTO_KEYS, pick), value]);
      return { body };
    },
  },
  {
    name: "missing required field",
    apply: (base, pick) => {
      const body = clone(base);
      const at = mainSection(base);
      const inner = { ...(body[at] as Record<string, unknown> | undefined) };
      const names = Object.keys(inner);
      if (names.length) delete inner[of(names, pick)];
      body[at] = inner;
      if (base.op === "call" && pick % 2) delete body.call;
      return { body };
    },
  },
  {
    name: "undeclared field",
    apply: (base, pick, value) => {
      const body = toObj(clone(base));
      const name = of(
        ["vip", "password", "is_admin", "id2", "EMAIL", "e-mail", "name;--", ...PROTO_KEYS, "toString"],
        pick,
      );
      section(body, mainSection(base)).pairs.push([name, value]);
      return { body };
    },
  },
  {
    name: "wrong type",
    apply: (base, _pick, value) => {
      const body = toObj(clone(base));
      const at = mainSection(base);
      const inner = section(body, at);
      const field = firstField(base, at);
      const pair = inner.pairs.find(([k]) => k === field);
      if (pair) pair[1] = value;
      else inner.pairs.push([field, value]);
      return { body };
    },
  },
  {
    name: "value out of range",
    apply: (base, pick) => {
      const body = clone(base);
      const sections = ["key", "data", "where"].filter((s) => body[s]);
      const at = sections.length ? of(sections, pick) : "where";
      const inner = { ...(body[at] as Record<string, unknown> | undefined) };
      const fields = Object.keys(inner).filter((f) => OUT_OF_RANGE[f]);
      const field = fields.length ? of(fields, pick >> 3) : "id";
      inner[field] = of(OUT_OF_RANGE[field]!, pick >> 5);
      body[at] = inner;
      return { body };
    },
  },
  {
    name: "unknown or malformed template",
    apply: (base, pick) => {
      const template = of(
        ["zzz", "cuss", "CUS", "cus ", "c-s", "x".repeat(33), "cus.extra", "1cu", ""],
        pick,
      );
      const body = { ...clone(base), template };
      // An unknown but well-formed name gets its own (routable) key; the rest keep the base key.
      return { body, route: template === "zzz" ? routingKey(base.op, "zzz") : undefined };
    },
  },
  {
    name: "unknown op",
    apply: (base, pick) => ({
      body: { ...clone(base), op: of(["drop", "READ", "select", "", "read ", "exec", "upsert", null], pick) },
    }),
  },
  {
    name: "call name missing, unknown or borrowed",
    apply: (base, pick) => {
      const body: Record<string, unknown> = { ...clone(base), op: "call" };
      const call = of(
        [undefined, "drop_everything", "cancel", "sp_cus_delete", "DROP", "x;--", "read"],
        pick,
      );
      if (call === undefined) delete body.call;
      else body.call = call;
      delete body.where;
      delete body.limit;
      delete body.order;
      delete body.offset;
      return { body, route: routingKey("call", base.template) };
    },
  },
  {
    name: "deadline passed",
    apply: (base, pick) => ({
      body: { ...clone(base), deadline_ms: of([1, 1000, 1_600_000_000_000], pick) },
    }),
  },
  {
    name: "malformed deadline",
    apply: (base, pick) => {
      const body = toObj(clone(base));
      body.pairs.push(["deadline_ms", of([0, -1, 1.5, "tomorrow", new Raw("1e308"), null, true, {}], pick)]);
      return { body };
    },
  },
  {
    name: "section the op does not take",
    apply: (base, pick) => {
      const body = clone(base);
      if (base.op === "read") body.data = { name: "x" };
      else {
        const [k, v] = of<[string, unknown]>([["where", { id: 1 }], ["limit", 5], ["order", ["id"]], [
          "offset",
          1,
        ]], pick);
        body[k] = v;
      }
      return { body };
    },
  },
  {
    name: "read paging out of bounds",
    apply: (base, pick) => {
      const body = clone(base);
      const [k, v] = of<[string, unknown]>([
        ["limit", 1001],
        ["limit", 10 ** 9],
        ["limit", -1],
        ["offset", -1],
        ["order", ["secret"]],
        ["order", Array(9).fill("id")],
        ["order", ["id; DROP TABLE customers"]],
        ["where", { id: [] }],
        ["where", { id: Array.from({ length: 1001 }, (_, i) => i + 1) }],
      ], pick);
      body[k] = v;
      return { body };
    },
  },
  {
    name: "bad protocol version",
    apply: (base, pick) => ({ body: { ...clone(base), v: of([2, "1", 0, 1.5, null, [1]], pick) } }),
  },
  {
    name: "bad event parent",
    apply: (base, pick) => ({
      body: {
        ...clone(base),
        event: of([
          { parent: "has space" },
          { parent: "x".repeat(401) },
          { parent: "a'; DROP TABLE x; --" },
          { parent: "" },
          { parent: 1 },
          { parent: "ok", extra: 1 },
          "0mwzqvqsf-node-boot-0000",
          null,
        ], pick),
      },
    }),
  },
  {
    name: "section of the wrong type",
    apply: (base, pick, value) => ({
      body: { ...clone(base), [mainSection(base)]: of([null, [], "id=1", 1, true, [value]], pick) },
    }),
  },
  {
    name: "key and data disagree",
    apply: (base) => {
      const body = clone(base);
      body.key = { ...(body.key as object), id: 2 };
      body.data = { ...(body.data as object), id: 3 };
      return { body };
    },
  },
  {
    name: "nested object as a value",
    apply: (base) => {
      const body = toObj(clone(base));
      const inner = section(body, mainSection(base));
      inner.pairs.push([firstField(base, mainSection(base)), new Obj([["$ne", null]])]);
      return { body };
    },
  },
];
