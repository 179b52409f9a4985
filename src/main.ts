/**
 * The BEDS entry point, and the only module with top-level effects: it reads
 * the arguments, wires SIGINT/SIGTERM to an abort signal, runs one command
 * and exits with its code.
 *
 * @module
 */
import { runCli } from "./cli/mod.ts";
import { ENV_VARIABLES } from "./config/mod.ts";

/** The BEDS variables that are set; reads only those, so `--allow-env=BEDS_*` suffices. */
function bedsEnviron(): Record<string, string> {
  const environ: Record<string, string> = {};
  for (const name of ENV_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) environ[name] = value;
  }
  return environ;
}

/**
 * Runs the process in UTC, whatever the host's zone. The MariaDB driver builds DATE and DATETIME
 * values with the process's local time while the session runs in UTC, so elsewhere every such value
 * a reply carries, or a fan-out part passes on, would be off by the zone's offset.
 */
function pinUtc(): void {
  try {
    if (Deno.env.get("TZ") !== "UTC") Deno.env.set("TZ", "UTC");
  } catch {
    // No permission for TZ: the host's zone stays, and the node says so at start-up.
  }
}

if (import.meta.main) {
  pinUtc();
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const code = await runCli(Deno.args, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    environ: bedsEnviron(),
    signal: controller.signal,
    onReload: (handler) => Deno.addSignalListener("SIGHUP", handler),
  });
  Deno.exit(code);
}
