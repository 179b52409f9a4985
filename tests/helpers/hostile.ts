/**
 * Generators of malformed and hostile request bodies (fast-check) for the
 * hostile-input suite. Each body comes with the oracle's prediction
 * (hostile_oracle.ts), and a body that would reach the database as a write
 * is left out, so the suite can never change data.
 *
 * @module
 */
import fc from "fast-check";
import type { Op } from "../../src/config/mod.ts";
import { routingKey } from "../../src/protocol/mod.ts";
import type { Oracle, Prediction } from "./hostile_oracle.ts";
import { BASE_REQUESTS, type Body, jsonText, Obj, Raw } from "./hostile_values.ts";
import * as v from "./hostile_values.ts";
import { MUTATIONS } from "./hostile_mutations.ts";

export { createOracle, type Oracle, type Prediction } from "./hostile_oracle.ts";

/** One generated message: where it is published and its exact bytes. */
export interface Hostile {
  /** Generator that made it, for failure messages. */
  kind: string;
  routingKey: string;
  bytes: Uint8Array;
}

const encoder = new TextEncoder();
const ROUTE_OPS: readonly Op[] = ["create", "read", "update", "delete", "call"];
const ROUTE_TEMPLATES = ["cus", "prd", "ord", "cat", "cov", "dsh", "zzz"];
/** Every routing key of every op and template (all routable: bindings are "<op>.*"). */
export const ROUTES: readonly string[] = ROUTE_OPS.flatMap((op) =>
  ROUTE_TEMPLATES.map((t) => routingKey(op, t))
);
const anyRoute = fc.constantFrom(...ROUTES);

function text(kind: string, route: fc.Arbitrary<string>, body: fc.Arbitrary<Body>): fc.Arbitrary<Hostile> {
  return fc.tuple(route, body).map(([routingKey, b]) => ({
    kind,
    routingKey,
    bytes: encoder.encode(jsonText(b)),
  }));
}

/** Bytes spliced between two JSON text fragments (invalid UTF-8 and friends). */
function spliced(before: string, middle: Uint8Array, after: string): Uint8Array {
  const a = encoder.encode(before);
  const c = encoder.encode(after);
  const out = new Uint8Array(a.length + middle.length + c.length);
  out.set(a);
  out.set(middle, a.length);
  out.set(c, a.length + middle.length);
  return out;
}

const randomBytes = fc.tuple(anyRoute, fc.uint8Array({ maxLength: 600 }))
  .map(([routingKey, bytes]) => ({ kind: "random bytes", routingKey, bytes }));

const badUtf8 = fc.tuple(fc.constantFrom(...BASE_REQUESTS), fc.constantFrom(...v.BAD_UTF8))
  .map(([base, middle]) => ({
    kind: "invalid UTF-8",
    routingKey: routingKey(base.op, base.template),
    bytes: spliced(`{"template":"${base.template}","op":"${base.op}","where":{"email":"a`, middle, `"}}`),
  }));

const deepNesting = fc.tuple(
  anyRoute,
  fc.integer({ min: 50, max: 30_000 }),
  fc.constantFrom("array", "object", "mixed"),
  fc.constantFrom("top", "key", "data", "where", "event", "order"),
).map(([routingKey, nesting, shape, at]) => {
  let depth = nesting;
  const [open, close] = shape === "array"
    ? ["[", "]"]
    : shape === "object"
    ? ['{"id":', "}"]
    : ['[{"__proto__":', "}]"];
  // Deep, but mostly within the body size limit, so the nesting itself is what gets tested.
  depth = Math.min(depth, Math.floor(70_000 / (open.length + close.length)));
  const deep = open.repeat(depth) + "1" + close.repeat(depth);
  const [op, template] = routingKey.split(".");
  const body = at === "top"
    ? deep
    : `{"template":"${template}","op":"${op}","${at}":${at === "order" ? deep : `{"id":${deep}}`}}`;
  return { kind: `deep nesting (${shape} ${depth} in ${at})`, routingKey, bytes: encoder.encode(body) };
});

const hugeStrings = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.string({ unit: "binary", minLength: 1, maxLength: 6 }),
  fc.integer({ min: 300, max: 80_000 }),
  fc.constantFrom("key", "data", "where", "call", "template"),
).map(([base, unit, length, at]) => {
  const huge = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  const body: Record<string, unknown> = structuredClone(base.body);
  if (at === "call" || at === "template") body[at] = huge;
  else body[at] = { ...(body[at] as object), [v.firstField(base, at)]: huge };
  return {
    kind: `huge string in ${at}`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

const oversize = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.constantFrom(65_537, 65_600, 70_000, 131_072, 250_000),
).map(([base, size]) => {
  const head = jsonText(base.body).slice(0, -1) + ',"pad":"';
  const pad = "x".repeat(Math.max(0, size - head.length - 2));
  return {
    kind: `oversize body (${size} bytes)`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(`${head}${pad}"}`),
  };
});

/** Envelopes whose every top-level value (and some keys) has a random, usually wrong, type. */
const wrongTypes = text(
  "wrong types",
  anyRoute,
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...v.TOP_KEYS), v.hostileKey), v.anyValue), {
    minLength: 1,
    maxLength: 8,
  }).map((pairs) => new Obj(pairs)),
);

/** `__proto__`, `constructor` and `prototype` at every level of a plausible request. */
const protoKeys = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.constantFrom(...v.PROTO_KEYS),
  fc.constantFrom("top", "key", "data", "where", "event", "nested", "array"),
  v.anyValue,
).map(([base, protoKey, at, value]): Hostile => {
  const body = v.toObj(base.body);
  if (at === "top") body.pairs.push([protoKey, value]);
  else if (at === "nested") body.pairs.push(["data", new Obj([["name", new Obj([[protoKey, value]])]])]);
  else if (at === "array") body.pairs.push(["where", new Obj([["id", [1, new Obj([[protoKey, value]])]]])]);
  else {
    const inner = v.section(body, at);
    inner.pairs.unshift([protoKey, value]);
  }
  return {
    kind: `${protoKey} in ${at}`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

/** A plausible request with SQL in every string it carries. */
const sqlEverywhere = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.array(fc.constantFrom(...v.SQL_FRAGMENTS), { minLength: 12, maxLength: 12 }),
  fc.boolean(),
  fc.boolean(),
).map(([base, fragments, append, inNames]) => {
  let i = 0;
  const next = () => fragments[i++ % fragments.length]!;
  const body = v.mapStrings(base.body, (s) => append ? s + next() : next(), inNames);
  return {
    kind: `SQL in every string${inNames ? " (and names)" : ""}`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

/** Unicode edge cases (lone surrogates, RTL, zero-width, NUL, emoji) in every string. */
const unicodeEdges = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.array(fc.oneof(fc.constantFrom(...v.UNICODE_EDGES), fc.string({ unit: "binary", maxLength: 8 })), {
    minLength: 12,
    maxLength: 12,
  }),
  fc.boolean(),
).map(([base, edges, inNames]) => {
  let i = 0;
  const body = v.mapStrings(base.body, (s) => s + edges[i++ % edges.length]!, inNames);
  return {
    kind: `unicode edges${inNames ? " (and names)" : ""}`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

/** NaN-ish strings, 1e308, -0, unsafe integers … in every numeric slot. */
const numbers = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.constantFrom("limit", "offset", "deadline_ms", "v", "field"),
  fc.constantFrom(...v.NUMBER_TEXTS),
).map(([base, slot, number]) => {
  const body = v.toObj(base.body);
  if (slot === "field") {
    const at = base.op === "read" ? "where" : "data";
    v.section(body, at).pairs.push([v.numericField(base), new Raw(number)]);
  } else body.pairs.push([slot, new Raw(number)]);
  return {
    kind: `number ${number} in ${slot}`,
    routingKey: routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

/** A request that would be valid but for one thing. */
const oneThingWrong = fc.tuple(
  fc.constantFrom(...BASE_REQUESTS),
  fc.constantFrom(...MUTATIONS),
  fc.nat(),
  v.anyValue,
).map(([base, mutation, pick, value]) => {
  const { body, route } = mutation.apply(base, pick, value);
  return {
    kind: `one thing wrong: ${mutation.name}`,
    routingKey: route ?? routingKey(base.op, base.template),
    bytes: encoder.encode(jsonText(body)),
  };
});

/** Options for {@link generateHostile}. */
export interface GenerateOptions {
  seed: number;
  count: number;
  oracle: Oracle;
}

/** A generated body with the oracle's prediction. */
export interface PredictedHostile extends Hostile {
  prediction: Prediction;
}

/**
 * Generates `count` hostile messages from `seed`, leaving out any that the
 * oracle says would reach the database as a write (so none can change data).
 */
export async function generateHostile(options: GenerateOptions): Promise<PredictedHostile[]> {
  const arbitrary = fc.oneof(
    { arbitrary: randomBytes, weight: 8 },
    { arbitrary: badUtf8, weight: 4 },
    { arbitrary: deepNesting, weight: 6 },
    { arbitrary: hugeStrings, weight: 5 },
    { arbitrary: oversize, weight: 3 },
    { arbitrary: wrongTypes, weight: 12 },
    { arbitrary: protoKeys, weight: 12 },
    { arbitrary: sqlEverywhere, weight: 12 },
    { arbitrary: unicodeEdges, weight: 12 },
    { arbitrary: numbers, weight: 10 },
    { arbitrary: oneThingWrong, weight: 24 },
  );
  const out: PredictedHostile[] = [];
  // Oversampled, then filtered: the oracle is async, so it cannot run inside fc.filter.
  const samples = fc.sample(arbitrary, { seed: options.seed, numRuns: Math.ceil(options.count * 1.5) });
  for (const sample of samples) {
    const prediction = await options.oracle(sample.routingKey, sample.bytes);
    if (prediction.code === undefined && prediction.op !== "read") continue; // a valid write
    out.push({ ...sample, prediction });
    if (out.length === options.count) return out;
  }
  throw new Error(
    `seed ${options.seed}: only ${out.length} of ${options.count} samples are not valid writes`,
  );
}
