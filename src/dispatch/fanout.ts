/**
 * REL fan-out: runs a REL template's parts as child requests of one parent,
 * each as soon as the parts it needs are done and a concurrency slot is
 * free, and assembles `{ part: data }`. A required part's failure fails the
 * request with that part's error; an optional part yields `null` and an
 * entry in `meta.errors`.
 *
 * @module
 */
import { BedsError, toErrorBody } from "../errors.ts";
import type { Request } from "../protocol/mod.ts";
import type { RelPart, RelTemplate } from "../templates/mod.ts";
import { checkInput, resolveValues } from "./values.ts";

/** How one part went, for the reply's meta and the log store. */
export interface PartRecord {
  part: string;
  event: string;
  template: string;
  op: string;
  call?: string;
  ms: number;
  rows: number;
  code?: string;
  message?: string;
}

/** The result of a fan-out. */
export interface FanOutResult {
  data: Record<string, unknown>;
  rows: number;
  parts: PartRecord[];
  errors: Array<{ part: string; code: string; message: string }>;
}

/**
 * A fan-out that failed for a required part: that part's error, with the records of the parts that
 * ran (the log store and the metrics count them as for a fan-out that succeeded). It is thrown as
 * soon as that part fails: `parts` holds the records of the parts ended by then, `settled` those of
 * every part that ran, once the parts still running then have ended too.
 */
export class FanOutError extends BedsError {
  readonly parts: PartRecord[];
  readonly settled: Promise<PartRecord[]>;
  constructor(
    failure: BedsError,
    parts: PartRecord[],
    settled: Promise<PartRecord[]> = Promise.resolve(parts),
  ) {
    super(failure.code, failure.message, { cause: failure.cause, details: failure.details });
    this.parts = parts;
    this.settled = settled;
  }
}

/** Runs one part's request (through the REC path of dispatch). */
export type RunPart = (request: Request) => Promise<{ data: unknown; rows: number }>;

/** Checks the REL's own input (key and where) against its declared fields. */
export function checkRelInput(rel: RelTemplate, request: Request): void {
  checkInput(
    rel.name,
    rel.checks,
    [["key", rel.input.key], ["where", rel.input.where]],
    rel.input.key,
    request,
  );
}

/** Each REL's parts by name and their positions, built once per template rather than per request. */
const partIndex = new WeakMap<RelTemplate, { byName: Map<string, RelPart>; indexOf: Map<string, number> }>();

function indexOfParts(rel: RelTemplate) {
  let index = partIndex.get(rel);
  if (!index) {
    index = {
      byName: new Map(rel.parts.map((p) => [p.name, p])),
      indexOf: new Map(rel.parts.map((p, i) => [p.name, i])),
    };
    partIndex.set(rel, index);
  }
  return index;
}

/** Runs the parts of `rel` for `request`; `childEvent(i)` names part i's event. */
export async function runFanOut(
  rel: RelTemplate,
  request: Request,
  runPart: RunPart,
  childEvent: (index: number) => string,
): Promise<FanOutResult> {
  checkRelInput(rel, request);
  const done = new Map<string, unknown>();
  const failed = new Map<string, BedsError>();
  const records: PartRecord[] = [];
  const errors: FanOutResult["errors"] = [];
  const started = new Map<string, Promise<void>>();
  // Set by the first required part that fails: the request has failed, and parts not started by
  // then are not started at all (their work would be done for a reply that has been decided).
  let failure: BedsError | undefined;
  // Resolved once `failure` is set: the answer waits no longer for the parts still running.
  let decide!: () => void;
  const decided = new Promise<void>((resolve) => decide = resolve);
  const { byName, indexOf } = indexOfParts(rel);
  let free = rel.concurrency;
  const waiting: Array<() => void> = [];
  // Only a part that finds no free slot waits (and yields): the rest go straight on.
  const wait = () => new Promise<void>((r) => waiting.push(r));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };

  const run = (part: RelPart, index: number): Promise<void> => {
    let promise = started.get(part.name);
    if (promise) return promise;
    promise = (async () => {
      // A part that needs none starts at once: no array, Promise.all or extra microtask for it.
      if (part.after.length) {
        await Promise.all(part.after.map((dep) => run(byName.get(dep)!, indexOf.get(dep)!)));
      }
      if (failure) return;
      let skipped = false;
      const event = childEvent(index + 1);
      const spec = part.spec;
      const t0 = performance.now();
      const record: PartRecord = {
        part: part.name,
        event,
        template: spec.template,
        op: spec.op,
        ms: 0,
        rows: 0,
      };
      if (spec.call) record.call = spec.call;
      try {
        const missing = part.after.find((dep) => failed.has(dep));
        if (missing) {
          const cause = failed.get(missing)!;
          throw new BedsError(
            cause.code,
            `Part "${missing}" that "${part.name}" needs failed: ${cause.message}`,
          );
        }
        if (free > 0) free--;
        else await wait();
        try {
          if (failure) {
            skipped = true;
            return;
          }
          // Set field by field: each spread of a conditional object allocated one more per part.
          const partRequest: Request = { template: spec.template, op: spec.op };
          if (spec.call) partRequest.call = spec.call;
          if (part.key) partRequest.key = resolveValues(part.key, request, done, true);
          if (part.where) partRequest.where = resolveValues(part.where, request, done);
          if (part.data) partRequest.data = resolveValues(part.data, request, done);
          if (spec.order) partRequest.order = spec.order;
          if (spec.limit) partRequest.limit = spec.limit;
          const result = await runPart(partRequest);
          done.set(part.name, result.data);
          record.rows = result.rows;
        } finally {
          release();
        }
      } catch (error) {
        const body = toErrorBody(error);
        record.code = body.code;
        record.message = body.message;
        failed.set(part.name, error instanceof BedsError ? error : new BedsError(body.code, body.message));
        done.set(part.name, null);
        if (!spec.optional) {
          if (!failure) {
            failure = new BedsError(body.code, `Part "${part.name}" failed: ${body.message}`, {
              cause: error,
              details: { part: part.name, ...(body.details ? { cause: body.details } : {}) },
            });
            decide();
          }
          throw failure;
        }
        errors.push({ part: part.name, code: body.code, message: body.message });
      } finally {
        record.ms = Math.round((performance.now() - t0) * 1000) / 1000;
        if (!skipped) records.push(record);
      }
    })();
    started.set(part.name, promise);
    return promise;
  };

  const inOrder = (list: PartRecord[]) => list.sort((a, b) => indexOf.get(a.part)! - indexOf.get(b.part)!);
  const ended = Promise.allSettled(rel.parts.map((part, i) => run(part, i)));
  // A required part that fails decides the answer: the parts still running end on their own, their
  // results unused, and their records come with `settled`.
  await Promise.race([ended, decided]);
  if (failure) {
    throw new FanOutError(failure, inOrder([...records]), ended.then(() => inOrder(records)));
  }
  inOrder(records);
  const data: Record<string, unknown> = {};
  let rows = 0;
  for (const part of rel.parts) data[part.name] = done.get(part.name) ?? null;
  for (const r of records) rows += r.rows;
  return { data, rows, parts: records, errors };
}
