/**
 * The V8 flags a node runs with, as `deno task compile` bakes them into the
 * binary (`deno.json`). The bench and the soak start their nodes with the
 * same flags, so they measure what is shipped.
 *
 * @module
 */

/** The `--v8-flags=…` arguments of `deno.json`'s compile task under `root`. */
export function nodeV8Flags(root: string): string[] {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)) as {
    tasks: Record<string, string>;
  };
  return v8FlagsOf(denoJson.tasks.compile ?? "");
}

/** The `--v8-flags=…` arguments of a task's command line. */
export function v8FlagsOf(command: string): string[] {
  return command.split(/\s+/).filter((arg) => arg.startsWith("--v8-flags="));
}
