/**
 * The BEDS entry point, and the only module with top-level effects: it reads
 * the arguments, wires SIGINT/SIGTERM/SIGHUP to an abort signal (for the
 * commands that stop by themselves) or to exit, and SIGHUP to a reload where
 * the command asks for one (`run`), runs one command and exits with its code.
 *
 * @module
 */
import { runCli, SIGNAL_EXIT_CODES } from "./cli/mod.ts";
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

/** Signals closer together than this are one request to stop. */
const SAME_SIGNAL_MS = 500;

if (import.meta.main) {
  const controller = new AbortController();
  let handled = false;
  let stoppingSince = 0;
  // A listener takes the signal's default action away for good, so a command that does not stop by
  // itself is ended here, as the signal would have ended it; so is any command on a second signal
  // (a drain that hangs, a publish RabbitMQ holds back). One Ctrl-C may arrive twice within a few
  // milliseconds, straight from the terminal and forwarded by `deno task`: that is still the first.
  const onSignal = (name: keyof typeof SIGNAL_EXIT_CODES) => () => {
    if (handled && !controller.signal.aborted) {
      stoppingSince = performance.now();
      controller.abort(name);
    } else if (!handled || performance.now() - stoppingSince >= SAME_SIGNAL_MS) {
      Deno.exit(SIGNAL_EXIT_CODES[name]);
    }
  };
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
  // SIGHUP is always listened for: its default action would end any command at once, `dlq replay`
  // between a copy's confirm and its letter's ack included (the letter would be replayed twice).
  // `run` takes it as a reload; any other command as a request to stop, like SIGTERM.
  let reload: (() => void) | undefined;
  const onHangup = onSignal("SIGHUP");
  Deno.addSignalListener("SIGHUP", () => reload ? reload() : onHangup());
  const code = await runCli(Deno.args, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    environ: bedsEnviron(),
    signal: controller.signal,
    handleSignals: () => {
      handled = true;
    },
    onReload: (handler) => {
      reload = handler;
    },
  });
  Deno.exit(code);
}
