/**
 * Shared start-up of `run` and `check`: load config (the first IPL step,
 * before the logger exists), build the IPL context, run the steps.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { ConfigError } from "../errors.ts";
import { createLogger, type Logger, silentLogger } from "../logging/mod.ts";
import { createEventIds } from "../protocol/mod.ts";
import {
  EXIT_CODES,
  type IplContext,
  IplError,
  iplEvent,
  type IplRecord,
  type IplResult,
  type IplStep,
  IplStopped,
  runIpl,
  type StepRecord,
  syslogFailure,
} from "../ipl/mod.ts";
import { createSyslogShipper } from "../admin/mod.ts";
import { fanOut } from "../logstore/mod.ts";
import type { CliIo } from "./io.ts";
import { configFrom } from "./args.ts";
import { instanceNameProblem } from "../amqp/mod.ts";

/** Options for {@link bootNode}. */
export interface BootOptions {
  values: { config?: string; env?: string; node?: string; instance?: string };
  steps: readonly IplStep<IplContext>[];
  /** Lets the node ask to be stopped (admin shutdown command). */
  requestStop?: () => void;
  /** Log JSON lines to this fd; none logs nothing. */
  logFd?: number;
  /** Keep the IPL record of a failed start in the log store, when a step before opened it. */
  recordFailure?: boolean;
  /** Stops the IPL between steps (the process's signals, for `run`). */
  stop?: AbortSignal;
}

/** A booted (or failed) node. */
export type BootResult =
  | { ok: true; ctx: IplContext; ipl: IplResult }
  | {
    ok: false;
    exitCode: number;
    message: string;
    ctx?: IplContext;
    /** The config's environment, when it loaded (a failure before the context is made has no ctx). */
    env?: string;
    records: StepRecord[];
    stopped?: true;
  };

/** Loads config and runs `steps`; never throws for expected failures. */
export async function bootNode(options: BootOptions, io: CliIo): Promise<BootResult> {
  const t0 = performance.now();
  let config: Config;
  try {
    config = configFrom(options.values, io);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const message = error.message;
    return {
      ok: false,
      exitCode: EXIT_CODES.config,
      message: `config: ${message}`,
      records: [{ step: "config", outcome: "failed", ms: elapsed(t0), error: message }],
    };
  }
  const role = options.values.node ?? config.node.name;
  const instance = options.values.instance ?? config.node.instance ?? `${Deno.hostname()}-${Deno.pid}`;
  const badInstance = instanceNameProblem(instance);
  if (badInstance) {
    return {
      ok: false,
      exitCode: EXIT_CODES.config,
      message: `config: ${badInstance}`,
      env: config.env,
      records: [{ step: "config", outcome: "failed", ms: elapsed(t0), error: badInstance }],
    };
  }
  // The system log shipper taps the logger from its first line; it ships once the admin link is up.
  let onShipError: (error: unknown, info: { size: number; attempt: number; dropped: boolean }) => void =
    () => {};
  const syslog = config.admin.syslog && options.logFd !== undefined
    ? createSyslogShipper({
      node: instance,
      maxBodyBytes: config.limits.max_body_bytes,
      onError: (error, info) => onShipError(error, info),
    })
    : undefined;
  const logger: Logger = options.logFd === undefined ? silentLogger() : createLogger({
    level: config.log.level,
    base: { role, node: instance },
    fd: options.logFd,
    tap: syslog?.tap,
  });
  const configRecord: StepRecord = {
    step: "config",
    outcome: "ok",
    ms: elapsed(t0),
    detail: `env ${config.env}: ${config.files.join(" + ")}`,
  };
  if (!config.nodes[role]) {
    const message = `Unknown node "${role}": expected one of ${Object.keys(config.nodes).join(", ")}`;
    return {
      ok: false,
      exitCode: EXIT_CODES.config,
      message: `config: ${message}`,
      env: config.env,
      records: [{ ...configRecord, outcome: "failed", error: message }],
    };
  }
  logger.info({ ipl: configRecord }, "ipl config ok");
  const ctx: IplContext = {
    config,
    logger,
    role,
    instance,
    startedAt: Date.now(),
    eventIds: createEventIds({ node: instance }),
    adapters: new Map(),
    sinks: [],
    requestStop: options.requestStop,
    reloadConfig: () => configFrom(options.values, io),
    syslog,
  };
  onShipError = syslogFailure(ctx);
  try {
    const onFailed = options.recordFailure
      ? (record: IplRecord) => fanOut(ctx.sinks).emit(iplEvent(ctx, record))
      : undefined;
    const ipl = await runIpl(options.steps, ctx, logger, [configRecord], onFailed, options.stop);
    return { ok: true, ctx, ipl };
  } catch (error) {
    if (error instanceof IplStopped) {
      // As a signal once resident: the node stops, and that is no failure.
      return {
        ok: false,
        exitCode: 0,
        message: error.message,
        ctx,
        records: error.record.steps,
        stopped: true,
      };
    }
    if (!(error instanceof IplError)) throw error;
    return {
      ok: false,
      exitCode: error.exitCode,
      message: `${error.step}: ${error.message}`,
      ctx,
      records: error.record.steps,
    };
  }
}

function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
