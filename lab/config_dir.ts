/**
 * A throw-away config directory for a node of the lab's tests and benchmarks:
 * a copy of a base `beds.toml` plus an `env_<name>.toml` override, written
 * from plain objects (so values are quoted by the TOML writer, not by hand).
 *
 * @module
 */
import { stringify } from "smol-toml";

/** What {@link writeConfigDir} writes. */
export interface ConfigDirOptions {
  /** The base `beds.toml` to copy. */
  base: string;
  /** The environment whose override is written (`env_<env>.toml`). */
  env: string;
  /** The override's tables, e.g. `{ amqp: { exchange: "x" }, http: { port: 0 } }`. */
  override: Record<string, unknown>;
  /** TOML text appended as it is (tables the override does not declare). */
  extraToml?: string;
  /** A comment line at the top of the override. */
  comment?: string;
  /** Directory name prefix. @default "beds_cfg_" */
  prefix?: string;
}

/** Writes the config directory and returns its path. */
export async function writeConfigDir(options: ConfigDirOptions): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: options.prefix ?? "beds_cfg_" });
  await Deno.copyFile(options.base, `${dir}/beds.toml`);
  const header = options.comment ? `# ${options.comment}\n\n` : "";
  await Deno.writeTextFile(
    `${dir}/env_${options.env}.toml`,
    `${header}${stringify(options.override)}\n${options.extraToml ?? ""}\n`,
  );
  return dir;
}
