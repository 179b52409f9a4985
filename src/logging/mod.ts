/**
 * Structured JSON logging (pino, synchronous destination: no worker
 * transports, so it works inside a compiled binary). Secret-looking keys are
 * redacted at any depth the logger knows of.
 *
 * @example
 * ```ts
 * import { createLogger } from "./mod.ts";
 * const log = createLogger({ level: "info" });
 * log.info({ step: "config", ms: 3 }, "ipl step done");
 * ```
 *
 * @module
 */
import pino from "pino";

/** The logger type passed through factories. */
export type Logger = pino.Logger;

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level. @default "info" */
  level?: string;
  /** Fields added to every line (node, instance). */
  base?: Record<string, unknown>;
  /** File descriptor to write to. @default 1 (stdout) */
  fd?: number;
  /** Sees every line written (JSON, secrets already redacted), e.g. to ship warnings elsewhere. */
  tap?: (line: string) => void;
}

const REDACT = [
  "pass",
  "password",
  "*.pass",
  "*.password",
  "*.*.pass",
  "*.*.password",
  "*.*.*.pass",
  "*.*.*.password",
];

function tapped(tap: (line: string) => void) {
  return (line: string) => {
    tap(line);
    return line;
  };
}

/** Creates a JSON logger writing synchronously to `fd`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: options.base ?? {},
      redact: { paths: REDACT, censor: "***" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // pino fails on `hooks: undefined`: pass the key only with a tap.
      ...(options.tap ? { hooks: { streamWrite: tapped(options.tap) } } : {}),
    },
    pino.destination({ fd: options.fd ?? 1, sync: true }),
  );
}

/** A logger that discards everything (tests, `--quiet`). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
