/**
 * The CLI run in this process with every line it writes kept apart, for
 * tests that look at lines one by one (tests/helpers/services.ts `cli` joins
 * them).
 *
 * @module
 */
import { type CliIo, runCli } from "../../src/cli/mod.ts";

/** Runs `args` and returns the exit code and the lines written to out and err. */
export async function cliLines(
  args: string[],
  environ: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    environ,
    signal: new AbortController().signal,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}
