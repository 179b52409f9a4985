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
  /**
   * Aborted when the process is asked to stop (SIGINT, SIGTERM, or SIGHUP where no reload handler is
   * registered), once the command called {@link handleSignals}; its reason is the signal's name.
   */
  signal: AbortSignal;
  /**
   * Declares that the command stops by itself once `signal` aborts. SIGINT, SIGTERM or SIGHUP ends a
   * command that has not declared it at once (exit 130, 143 or 129), and a second one ends any command.
   * Absent where there are no signals.
   */
  handleSignals?: () => void;
  /**
   * Registers what to do on a reload request (SIGHUP), which then no longer stops the command;
   * absent where there are no signals.
   */
  onReload?: (handler: () => void) => void;
}

/** A usage error: exit code 2 with a short message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The exit codes of a process ended by a signal: 128 + its number, as a shell reports it. */
export const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

/** The exit code of a command that stopped early because `signal` aborted (its reason: the signal's name). */
export function stoppedExitCode(signal: AbortSignal): number {
  return SIGNAL_EXIT_CODES[signal.reason as keyof typeof SIGNAL_EXIT_CODES] ?? SIGNAL_EXIT_CODES.SIGINT;
}
