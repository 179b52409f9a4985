/**
 * The observer (`deno task observer`'s entry) as its own process, as an
 * operator runs it: it imports nothing from BEDS, so tests reach it over HTTP.
 *
 * @module
 */
import { ROOT } from "./services.ts";

/** `deno task observer`'s command line (deno.json), after `deno`. */
export const OBSERVER_ARGS = [
  "run",
  "--unstable-no-legacy-abort",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-sys",
  "utilities/log_dumper/main.ts",
];

/** A running observer. */
export interface ObserverProcess {
  url: string;
  /** Status and body of a page, or "timeout" when no answer came within `ms`. */
  get(path: string, ms?: number): Promise<{ status: number; text: string; ms: number } | "timeout">;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and returns what it wrote to stderr. */
  stop(): Promise<string>;
}

/** Starts the observer with `env` over a free port and no config file; resolves once it listens. */
export async function startObserverProcess(env: Record<string, string>): Promise<ObserverProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: OBSERVER_ARGS,
    cwd: ROOT,
    env: { LOG_DUMPER_PORT: "0", LOG_DUMPER_CONFIG: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let seen = "";
  while (!/http:\/\/\S+\//.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`observer exited: ${seen}${await stderr}`);
    seen += value;
  }
  const url = /http:\/\/(\S+?)\//.exec(seen)![0].replace(/\/$/, "");
  return {
    url,
    async get(path, ms = 20_000) {
      const started = Date.now();
      try {
        const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(ms) });
        return { status: response.status, text: await response.text(), ms: Date.now() - started };
      } catch (error) {
        if ((error as Error).name === "TimeoutError") return "timeout";
        throw error;
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      // One whose pool cannot end (a connection that never answers) is ended the hard way.
      const hard = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await child.status;
      clearTimeout(hard);
      return await stderr;
    },
  };
}
