/**
 * Bench scenarios are data: one JSON file each in `lab/bench/scenarios/`.
 * A scenario names its load (closed or open loop), its requests (with
 * weights, for mixes) and, per request, the raw database statements that do
 * the same work without BEDS. Values in a request body may be generators:
 *
 * - `"$int:A:B"`: a random integer in [A, B];
 * - `"$seq"`: a number unique within the bench run;
 * - `"$sku"`: a unique product SKU (`AAA-0000` … , never the seed's `PRD-`);
 * - `"$email"`: a unique e-mail address.
 *
 * Raw statement parameters may refer to the generated body:
 * `"$key.F"`, `"$data.F"`, `"$where.F"`; anything else is a literal. A raw
 * statement with `each` runs once per parameter list (a fan-out).
 *
 * @module
 */
import { z } from "zod";
import type { RequestBody } from "../../src/client/mod.ts";

const rawStatementSchema = z.strictObject({
  sql: z.string().min(1),
  params: z.array(z.unknown()).optional(),
  each: z.array(z.array(z.unknown())).optional(),
});

const requestSpecSchema = z.strictObject({
  weight: z.number().positive().default(1),
  body: z.looseObject({
    template: z.string(),
    op: z.enum(["create", "read", "update", "delete", "call"]),
  }),
  raw: z.array(rawStatementSchema).min(1),
});

const loadSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("closed"), concurrency: z.number().int().min(1).max(10_000) }),
  z.strictObject({
    mode: z.literal("open"),
    rate: z.number().positive(),
    max_inflight: z.number().int().min(1).optional(),
  }),
]);

/** The schema of one scenario file. */
export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]{1,40}$/),
  description: z.string(),
  load: loadSchema,
  /** Part of the short CI gate run. */
  gate: z.boolean().default(false),
  /** BEDS node processes of the same role (competing consumers). */
  nodes: z.number().int().min(1).max(8).default(1),
  /** Statements run once on the bench schema before the scenario (e.g. plenty of stock). */
  setup: z.array(z.string()).default([]),
  /**
   * Also measure a BEDS node with metrics off (`[http] enabled = false`) in each round,
   * to show what counting costs (`metrics_ratio`, `metrics_cpu_ratio`). Not in gate runs.
   */
  metrics_off: z.boolean().default(false),
  /** Run only when named in `--only` (a long measurement, e.g. memory over a million requests). */
  explicit: z.boolean().default(false),
  /**
   * A counted run instead of timed windows: BEDS alone serves `total` requests through one
   * fresh node, whose RSS is read every `rss_every` requests. No raw systems, no ratios.
   */
  count: z.strictObject({
    total: z.number().int().min(1),
    rss_every: z.number().int().min(1),
  }).optional(),
  requests: z.array(requestSpecSchema).min(1),
});

/** A validated scenario. */
export type Scenario = z.output<typeof scenarioSchema>;
/** One request kind of a scenario. */
export type RequestSpec = Scenario["requests"][number];
/** One raw statement as written in a scenario. */
export type RawStatementSpec = z.output<typeof rawStatementSchema>;

/** A statement ready for the driver. */
export interface RawStatement {
  sql: string;
  values: unknown[];
}

/** Loads and validates every `*.json` scenario in `dir`, sorted by file name. */
export async function loadScenarios(dir: string): Promise<Scenario[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".json")) files.push(entry.name);
  }
  const scenarios: Scenario[] = [];
  for (const file of files.sort()) {
    const parsed = scenarioSchema.safeParse(JSON.parse(await Deno.readTextFile(`${dir}/${file}`)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`Invalid scenario "${dir}/${file}": ${issue.path.join(".")}: ${issue.message}`);
    }
    const keys = parsed.data.requests.map((r) => `${r.body.op}.${r.body.template}`);
    if (new Set(keys).size !== keys.length) {
      throw new Error(`Invalid scenario "${dir}/${file}": two requests share a routing key`);
    }
    scenarios.push(parsed.data);
  }
  return scenarios;
}

/** Runs the scenario's `setup` statements (e.g. restocking what its writes use up) on `db`. */
export async function runSetup(
  scenario: Scenario,
  db: { query(sql: string): Promise<unknown> },
): Promise<void> {
  for (const sql of scenario.setup) await db.query(sql);
}

/** Templates a scenario needs loaded in the node. */
export function templatesOf(scenario: Scenario): string[] {
  return [...new Set(scenario.requests.map((r) => r.body.template))];
}

let counter = 0;

function sku(n: number): string {
  const letters = Math.floor(n / 10_000);
  const a = String.fromCharCode(65 + Math.floor(letters / 676) % 26);
  const b = String.fromCharCode(65 + Math.floor(letters / 26) % 26);
  const c = String.fromCharCode(65 + letters % 26);
  return `${a}${b}${c}-${String(n % 10_000).padStart(4, "0")}`;
}

function generated(value: unknown): () => unknown {
  if (typeof value === "string" && value.startsWith("$")) {
    const [kind, a, b] = value.slice(1).split(":");
    if (kind === "int") {
      const lo = Number(a);
      const span = Number(b) - lo + 1;
      return () => lo + Math.floor(Math.random() * span);
    }
    if (kind === "seq") return () => counter++;
    if (kind === "sku") return () => sku(counter++);
    if (kind === "email") return () => `bench${counter++}@bench.example`;
    throw new Error(`Unknown generator "${value}"`);
  }
  if (Array.isArray(value)) {
    const items = value.map(generated);
    return () => items.map((f) => f());
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, generated(v)] as const);
    return () => Object.fromEntries(entries.map(([k, f]) => [k, f()]));
  }
  return () => value;
}

/** One generated request with the raw statements doing the same work. */
export interface Generated {
  /** The routing key `<op>.<template>`. */
  key: string;
  body: RequestBody;
  raw(): RawStatement[];
}

/** One request kind of a scenario, ready to generate requests. */
export interface RequestKind {
  key: string;
  weight: number;
  make(): Generated;
}

/** The request kinds of a scenario, each with its own generator. */
export function requestKinds(scenario: Scenario): RequestKind[] {
  return scenario.requests.map((spec) => {
    const key = `${spec.body.op}.${spec.body.template}`;
    const body = generated(spec.body) as () => RequestBody;
    return {
      key,
      weight: spec.weight,
      make() {
        const b = body();
        return { key, body: b, raw: () => rawStatements(spec.raw, b) };
      },
    };
  });
}

/** Builds a request maker: each call picks a request kind by weight and generates its values. */
export function requestMaker(scenario: Scenario): () => Generated {
  const kinds = requestKinds(scenario);
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  if (kinds.length === 1) return kinds[0]!.make;
  return () => {
    let pick = Math.random() * total;
    return (kinds.find((k) => (pick -= k.weight) < 0) ?? kinds[kinds.length - 1]!).make();
  };
}

/** Resolves a request's raw statements against its generated body (`$key.F`, `$data.F`, `$where.F`). */
export function rawStatements(specs: readonly RawStatementSpec[], body: object): RawStatement[] {
  const ref = (value: unknown): unknown => {
    if (typeof value !== "string" || !value.startsWith("$")) return value;
    const [section, field] = value.slice(1).split(".");
    return ((body as Record<string, Record<string, unknown> | undefined>)[section!] ?? {})[field!] ?? null;
  };
  const out: RawStatement[] = [];
  for (const spec of specs) {
    if (spec.each) { for (const values of spec.each) out.push({ sql: spec.sql, values: values.map(ref) }); }
    else out.push({ sql: spec.sql, values: (spec.params ?? []).map(ref) });
  }
  return out;
}
