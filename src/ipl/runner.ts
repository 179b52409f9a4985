/**
 * Runs IPL steps in order. Each step is timed and logged with its outcome;
 * on failure the steps already done are unwound in reverse order and an
 * {@link IplError} carries the failed step's distinct exit code.
 *
 * @module
 */
import type { Logger } from "../logging/mod.ts";

/** What a step reports when it succeeds. */
export interface StepOutcome {
  /** One-line summary for the report. */
  detail?: string;
  /** Problems that did not stop the step (e.g. optional service down in dev). */
  warnings?: string[];
  /** Undoes the step (close what it opened); run on failure or shutdown. */
  undo?: () => Promise<void>;
}

/** One named IPL step. */
export interface IplStep<C> {
  name: string;
  /** Process exit code when this step fails. */
  exitCode: number;
  run(ctx: C): Promise<StepOutcome | void>;
}

/** The record of one step. */
export interface StepRecord {
  step: string;
  outcome: "ok" | "warn" | "failed";
  ms: number;
  detail?: string;
  warnings?: string[];
  error?: string;
}

/** The record of a whole IPL run. */
export interface IplRecord {
  ok: boolean;
  ms: number;
  steps: StepRecord[];
}

/** An IPL step failed; `exitCode` is the step's. */
export class IplError extends Error {
  readonly step: string;
  readonly exitCode: number;
  readonly record: IplRecord;
  constructor(step: string, exitCode: number, message: string, record: IplRecord, cause?: unknown) {
    super(message, { cause });
    this.name = "IplError";
    this.step = step;
    this.exitCode = exitCode;
    this.record = record;
  }
}

/**
 * An IPL stopped between steps by `stop` (SIGINT or SIGTERM during start-up): the steps that ran
 * were undone, and the node never took work.
 */
export class IplStopped extends Error {
  /** The step that would have run next. */
  readonly step: string;
  readonly record: IplRecord;
  constructor(step: string, record: IplRecord) {
    super(`stopped before ${step}`);
    this.name = "IplStopped";
    this.step = step;
    this.record = record;
  }
}

/** A finished IPL: its record and how to unwind it. */
export interface IplResult {
  record: IplRecord;
  /** Undoes every step in reverse order. */
  unwind(): Promise<void>;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Runs `steps` in order over `ctx`; `done` are records of steps that ran
 * before (config loading, which must precede the logger). `onFailed` sees
 * the record of a failed IPL before the steps are undone (while a log store
 * opened by an earlier step can still take it). Once `stop` aborts, no
 * further step starts: a signal during start-up must not end in a node that
 * starts consuming (a step may take many seconds: a database's connect timeout).
 * @throws {IplError} on the first failure.
 * @throws {IplStopped} when `stop` aborted, after undoing the steps that ran.
 */
export async function runIpl<C>(
  steps: readonly IplStep<C>[],
  ctx: C,
  logger: Logger,
  done: readonly StepRecord[] = [],
  onFailed?: (record: IplRecord) => void,
  stop?: AbortSignal,
): Promise<IplResult> {
  const started = performance.now() - done.reduce((ms, s) => ms + s.ms, 0);
  const record: IplRecord = { ok: true, ms: 0, steps: [...done] };
  const undos: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const undo of undos.splice(0).reverse()) {
      await undo().catch((error) => logger.warn({ err: (error as Error).message }, "ipl unwind step failed"));
    }
  };
  for (const step of steps) {
    if (stop?.aborted) {
      record.ok = false;
      record.ms = round(performance.now() - started);
      logger.warn({ step: step.name }, "ipl stopped by a signal; undoing the steps that ran");
      await unwind();
      throw new IplStopped(step.name, record);
    }
    const t0 = performance.now();
    try {
      const outcome = (await step.run(ctx)) ?? {};
      if (outcome.undo) undos.push(outcome.undo);
      const warnings = outcome.warnings?.length ? outcome.warnings : undefined;
      const rec: StepRecord = {
        step: step.name,
        outcome: warnings ? "warn" : "ok",
        ms: round(performance.now() - t0),
        ...(outcome.detail ? { detail: outcome.detail } : {}),
        ...(warnings ? { warnings } : {}),
      };
      record.steps.push(rec);
      (warnings ? logger.warn : logger.info).call(logger, { ipl: rec }, `ipl ${step.name} ${rec.outcome}`);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      const rec: StepRecord = {
        step: step.name,
        outcome: "failed",
        ms: round(performance.now() - t0),
        error: message,
      };
      record.steps.push(rec);
      record.ok = false;
      record.ms = round(performance.now() - started);
      logger.error({ ipl: rec }, `ipl ${step.name} failed`);
      try {
        onFailed?.(record);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, "the failed IPL's record could not be kept");
      }
      await unwind();
      throw new IplError(step.name, step.exitCode, message, record, error);
    }
  }
  record.ms = round(performance.now() - started);
  return { record, unwind };
}
