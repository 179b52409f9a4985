/** Small file helpers for tests. @module */

/** Copies the files (not subdirectories) of `from` into `to`. */
export async function copy(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/**
 * A copy of the repository's templates plus `cdt`, a REL whose second part (`same_time`, on `cu4`:
 * `cus` that may filter on `created_at`) filters on the first part's `created_at`: a date-time read
 * from the database fed to the next part. Returns the directory; the caller removes it.
 */
export async function templatesWithDateTimeRel(root: string): Promise<string> {
  const example = await Deno.readTextFile(`${root}/templates/example_rec.toml`);
  return await templatesWith(root, {
    "cu4_rec.toml": example.replace('name = "cus"', 'name = "cu4"').replace(
      'where = ["id", "email", "status"]',
      'where = ["id", "email", "status", "created_at"]',
    ),
    "cdt_rel.toml": `[template]
name = "cdt"
kind = "rel"

[fields.id]
type = "int"
min = 1

[input]
key = ["id"]

[parts.first]
template = "cus"
key = { id = "$key.id" }

[parts.same_time]
template = "cu4"
where = { created_at = "$parts.first.created_at" }
`,
  });
}

/** A temp directory with the repository's templates and `files` (name → text) beside them; the caller removes it. */
export async function templatesWith(root: string, files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  await copy(`${root}/templates`, dir);
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
  return dir;
}
