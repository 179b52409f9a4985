/**
 * Argument parsing shared by subcommands (`node:util` parseArgs, strict:
 * unknown flags are a {@link UsageError}).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig } from "../config/mod.ts";
import type { Config } from "../config/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { MAX_TIMEOUT_MS } from "../client/mod.ts";
import { parseExact } from "../protocol/exact_numbers.ts";

/** Flags every subcommand accepts. */
export const COMMON_OPTIONS = {
  config: { type: "string" },
  env: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Parses `args` with the common flags plus `options`. */
export function parse<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    const [first, ...rest] = (error as Error).message.split("\n");
    const message = first!.replace(/\. To specify.*$/, "");
    // node:util's hint for a value that starts with "-" (`--limit -5`) is on a line of its own.
    const flag = /starting with a dash use '(-[^=']+)=-XYZ'/.exec(rest.join(" "))?.[1];
    if (flag === undefined) throw new UsageError(message);
    const at = args.indexOf(flag);
    const value = (at < 0 ? undefined : args[at + 1]) ?? "-XYZ";
    const ambiguous = message.replace(/\.$/, "");
    throw new UsageError(
      `${ambiguous}: a value that starts with "-" must be attached with "=", as in ${flag}=${value}`,
    );
  }
}

/**
 * Refuses the flags in `values` (as parsed: only those given) that `action` does not take. A command
 * whose actions share one parse would otherwise accept another action's flag and ignore it: an `--id`
 * given to `dlq purge` would purge every letter instead of one.
 */
export function refuseOtherFlags(action: string, values: object, own: readonly string[]): void {
  for (const flag of Object.keys(values)) {
    if (!Object.hasOwn(COMMON_OPTIONS, flag) && !own.includes(flag)) {
      throw new UsageError(`${action} does not take --${flag}`);
    }
  }
}

/** Loads the config named by `--config` / `--env` (or BEDS_CONFIG_DIR / BEDS_ENV). */
export function configFrom(values: { config?: string; env?: string }, io: CliIo): Config {
  const environ = values.env ? { ...io.environ, BEDS_ENV: values.env } : io.environ;
  // An empty variable counts as unset, as every BEDS_* variable does.
  return loadConfig({ dir: values.config ?? (io.environ.BEDS_CONFIG_DIR || "config"), environ });
}

/** Parses a JSON object flag, e.g. `--key '{"id":1}'`. */
export function jsonFlag(name: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    // A long number (an id past 2^53, a decimal's digits) is sent as written, as a client's would be.
    value = parseExact(text);
  } catch {
    throw new UsageError(`Option --${name} is not valid JSON: ${text}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`Option --${name} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The values an {@link integerFlag} takes: `min` up to `max` (none: any), in `unit`. */
export interface IntegerRange {
  min: number;
  max?: number;
  unit?: string;
}

/**
 * `--NAME N`: a whole number within `range`, written in decimal digits only. `Number` would also
 * read "" as 0, " 0x2" as 2 and "1e2" as 100: a value mistyped or garbled by a script would pass
 * as another one. Undefined when the flag is not given.
 */
export function integerFlag(name: string, text: string | undefined, range: IntegerRange): number | undefined {
  if (text === undefined) return undefined;
  const { min, max, unit = "" } = range;
  const wanted = max === undefined
    ? `${min === 0 ? "a non-negative integer" : `an integer of at least ${min}`}${unit}`
    : `${min}–${max}${unit}`;
  if (!/^[0-9]+$/.test(text)) {
    throw new UsageError(
      `Option --${name} must be ${wanted} in decimal digits only, got ${JSON.stringify(text)}`,
    );
  }
  const n = Number(text);
  if (n < min || n > (max ?? Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`Option --${name} must be ${wanted}, got ${text}`);
  }
  return n;
}

/** `--wait MS`: how long to collect replies, within what a timer can wait. */
export function waitFlag(text: string | undefined, fallback: number): number {
  return integerFlag("wait", text, { min: 1, max: MAX_TIMEOUT_MS, unit: " ms" }) ?? fallback;
}
