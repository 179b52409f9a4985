/**
 * `beds help` and `beds version`.
 *
 * @module
 */
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { type CliIo, UsageError } from "./io.ts";
import { parse } from "./args.ts";
import { RUN_USAGE } from "./run.ts";
import { CHECK_USAGE } from "./check.ts";
import { CALL_USAGE } from "./call.ts";
import { TEMPLATES_USAGE } from "./templates.ts";
import { SCHEMA_USAGE } from "./schema.ts";
import { DLQ_USAGE } from "./dlq.ts";
import { LOGS_USAGE } from "./logs.ts";
import { ADMIN_USAGE } from "./admin.ts";

/** The full usage text. */
export const USAGE = `BEDS ${VERSION}: AMQP-first data access (wire protocol v${PROTOCOL_VERSION})

Usage:
  ${RUN_USAGE}
  ${CHECK_USAGE}
  ${CALL_USAGE}
  ${TEMPLATES_USAGE}
  ${SCHEMA_USAGE}
  ${DLQ_USAGE}
  ${LOGS_USAGE}
  ${ADMIN_USAGE}
  beds version
  beds help

Config: --config DIR (default $BEDS_CONFIG_DIR or ./config), --env ENV (default $BEDS_ENV or dev).`;

/** Refuses any flag or argument but `--help`: a command that ignored them would hide a typo. */
function takesNothing(command: string, args: string[]): void {
  const { values } = parse(args, {}, false);
  const flag = Object.keys(values).find((f) => f !== "help");
  if (flag) throw new UsageError(`beds ${command} does not take --${flag}`);
}

/** Prints the usage. */
export function helpCommand(args: string[], io: CliIo): Promise<number> {
  takesNothing("help", args);
  io.out(USAGE);
  return Promise.resolve(0);
}

/** Prints the version. */
export function versionCommand(args: string[], io: CliIo): Promise<number> {
  takesNothing("version", args);
  io.out(`beds ${VERSION} (protocol v${PROTOCOL_VERSION}, deno ${Deno.version.deno})`);
  return Promise.resolve(0);
}
