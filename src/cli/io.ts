/**
 * What a subcommand needs from its surroundings; `main.ts` provides the real
 * console, environment and signals, tests provide their own.
 *
 * @module
 */

/** Output and environment of one CLI invocation. */
export interface CliIo {
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** Environment variables. */
  environ: Record<string, string | undefined>;
  /** Aborted when the process is asked to stop (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /** Registers what to do on a reload request (SIGHUP); absent where there are no signals. */
  onReload?: (handler: () => void) => void;
}

/** A usage error: exit code 2 with a short message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
