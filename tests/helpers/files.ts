/** Small file helpers for tests. @module */

/** Copies the files (not subdirectories) of `from` into `to`. */
export async function copy(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
