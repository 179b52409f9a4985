/**
 * `beds help` and `beds version`.
 *
 * @module
 */
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import type { CliIo } from "./io.ts";
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

/** Prints the usage. */
export function helpCommand(_args: string[], io: CliIo): Promise<number> {
  io.out(USAGE);
  return Promise.resolve(0);
}

/** Prints the version. */
export function versionCommand(_args: string[], io: CliIo): Promise<number> {
  io.out(`beds ${VERSION} (protocol v${PROTOCOL_VERSION}, deno ${Deno.version.deno})`);
  return Promise.resolve(0);
}
