/**
 * The BEDS entry point, and the only module with top-level effects: it reads
 * the arguments, wires SIGINT/SIGTERM to an abort signal, runs one command
 * and exits with its code.
 *
 * @module
 */
import { runCli } from "./cli/mod.ts";

if (import.meta.main) {
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const code = await runCli(Deno.args, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    environ: Deno.env.toObject(),
    signal: controller.signal,
  });
  Deno.exit(code);
}
