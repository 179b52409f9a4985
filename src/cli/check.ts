/**
 * `beds check`: the IPL steps up to template verification, printed as a
 * readable report. Exits non-zero with the failed step's code.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import { parse } from "./args.ts";
import { bootNode } from "./node.ts";
import { CHECK_STEPS, type StepRecord } from "../ipl/mod.ts";

/** Usage of `beds check`. */
export const CHECK_USAGE = "beds check [--node NAME] [--config DIR] [--env ENV] [--verbose]";

function line(rec: StepRecord): string {
  const mark = rec.outcome === "ok" ? "ok  " : rec.outcome === "warn" ? "warn" : "FAIL";
  const ms = `${rec.ms.toFixed(1)} ms`.padStart(10);
  return `  ${mark}  ${rec.step.padEnd(17)} ${ms}  ${rec.error ?? rec.detail ?? ""}`;
}

/** Runs the checks and prints the report. */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { node: { type: "string" }, verbose: { type: "boolean" } }, false);
  if (values.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  const boot = await bootNode({ values, steps: CHECK_STEPS, logFd: values.verbose ? 2 : undefined }, io);
  const records = boot.ok ? boot.ipl.record.steps : boot.records;
  const ctx = boot.ctx;
  const env = ctx?.config.env ?? (boot.ok ? undefined : boot.env);
  io.out(`beds check: node ${ctx?.role ?? values.node ?? "?"}, env ${env ?? "?"}`);
  for (const rec of records) {
    io.out(line(rec));
    for (const warning of rec.warnings ?? []) io.out(`          ${warning}`);
  }
  for (const p of ctx?.problems ?? []) {
    io.out(`          template "${p.template}" (${p.file}) ${p.path}: ${p.message}`);
  }
  if (!boot.ok) {
    io.out(`check failed: ${boot.message}`);
    return boot.exitCode;
  }
  await boot.ipl.unwind();
  const warnings = records.reduce((n, r) => n + (r.warnings?.length ?? 0), 0);
  io.out(`check passed${warnings ? ` with ${warnings} warning(s)` : ""}`);
  return 0;
}
