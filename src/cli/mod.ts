/**
 * The command line: one function per subcommand, selected by `runCli`.
 *
 * @example
 * ```ts
 * import { runCli } from "./mod.ts";
 * const code = await runCli(["version"], {
 *   out: console.log, err: console.error, environ: {}, signal: new AbortController().signal,
 * });
 * ```
 *
 * @module
 */
import { ConfigError, TemplateError } from "../errors.ts";
import { type CliIo, UsageError } from "./io.ts";
import { runCommand } from "./run.ts";
import { checkCommand } from "./check.ts";
import { callCommand } from "./call.ts";
import { templatesCommand } from "./templates.ts";
import { schemaCommand } from "./schema.ts";
import { helpCommand, USAGE, versionCommand } from "./help.ts";
import { shutdownCommand, statusCommand } from "./admin.ts";
import { dlqCommand } from "./dlq.ts";
import { logsCommand } from "./logs.ts";
import { EXIT_CODES } from "../ipl/mod.ts";

export type { CliIo } from "./io.ts";
export { SIGNAL_EXIT_CODES, UsageError } from "./io.ts";

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  check: checkCommand,
  call: callCommand,
  templates: templatesCommand,
  schema: schemaCommand,
  dlq: dlqCommand,
  logs: logsCommand,
  shutdown: shutdownCommand,
  status: statusCommand,
  version: versionCommand,
  help: helpCommand,
};

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  const command = name === "--help" || name === "-h"
    ? helpCommand
    : name === "--version"
    ? versionCommand
    : COMMANDS[name ?? ""];
  try {
    if (!command) throw new UsageError(name ? `Unknown command "${name}"` : "No command given");
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`beds: ${error.message}`);
      io.err(USAGE.split("\n").slice(2).join("\n"));
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`beds: ${error.message}`);
      return EXIT_CODES.config;
    }
    if (error instanceof TemplateError) {
      io.err(`beds: ${error.message}`);
      return EXIT_CODES.templates_load;
    }
    io.err(`beds: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
