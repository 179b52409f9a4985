/**
 * Builds the configuration once: base file → env file → environment
 * variables → zod schema → cross-checks → frozen object. Nothing connects
 * before this succeeds.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { deepFreeze, deepMerge, originOf, type Origins, type Table } from "./merge.ts";
import { configSchema, type ParsedConfig, type TlsConfig } from "./schema.ts";
import { checkBindings } from "./bindings.ts";
import { checkTlsFiles } from "../tls.ts";

/** Environments BEDS knows; each may have a `config/env_<name>.toml`. */
export const ENVIRONMENTS = ["dev", "qa", "prod", "lab", "test"] as const;

/** A deployment environment. */
export type BedsEnv = typeof ENVIRONMENTS[number];

/** The validated, frozen configuration plus where it came from. */
export type Config = Readonly<
  ParsedConfig & {
    /** The environment whose override file was layered in. */
    env: BedsEnv;
    /** Absolute directory the config files were read from. */
    configDir: string;
    /** Files that were read, in layer order. */
    files: readonly string[];
    /** Absolute templates directory. */
    templatesDir: string;
  }
>;

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Directory holding `beds.toml`. @default "config" (from the working directory) */
  dir?: string;
  /** Environment variables to read (`BEDS_ENV` and secrets). @default {} */
  environ?: Record<string, string | undefined>;
  /** Extra table merged last, e.g. from CLI flags or tests. */
  overrides?: Table;
}

/** Environment variables that override config keys (secrets in containers). */
const ENV_KEYS: ReadonlyArray<[string, string[]]> = [
  ["BEDS_AMQP_URL", ["amqp", "url"]],
  ["BEDS_AMQP_USER", ["amqp", "user"]],
  ["BEDS_AMQP_PASS", ["amqp", "pass"]],
  ["BEDS_MARIADB_USER", ["databases", "mariadb", "master", "user"]],
  ["BEDS_MARIADB_PASSWORD", ["databases", "mariadb", "master", "password"]],
  ["BEDS_MARIADB_SECONDARY_USER", ["databases", "mariadb", "secondary", "user"]],
  ["BEDS_MARIADB_SECONDARY_PASSWORD", ["databases", "mariadb", "secondary", "password"]],
  ["BEDS_MONGODB_URL", ["databases", "mongodb", "url"]],
  ["BEDS_LOG_LEVEL", ["log", "level"]],
];

/**
 * Every environment variable BEDS reads. The entry point reads exactly
 * these, one by one, so a binary compiled with `--allow-env=BEDS_*` works
 * (listing the whole environment would need full env access).
 */
export const ENV_VARIABLES: readonly string[] = [
  "BEDS_ENV",
  "BEDS_CONFIG_DIR",
  ...ENV_KEYS.map(([variable]) => variable),
];

function readToml(file: string, required: boolean): Table | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    if (!required && error instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`Cannot read config file "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return parse(text) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = error.message.split("\n")[0];
      throw new ConfigError(
        `Invalid TOML in "${file}" at line ${error.line}, column ${error.column}: ${reason}`,
        { cause: error },
      );
    }
    throw error;
  }
}

function hasTable(root: Table, path: readonly string[]): boolean {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Table)[key];
  }
  return typeof node === "object" && node !== null;
}

/** Secrets from the environment, applied only to sections the files configure. */
function envLayer(environ: Record<string, string | undefined>, merged: Table): Table {
  let layer: Table = {};
  for (const [variable, path] of ENV_KEYS) {
    const value = environ[variable];
    if (value === undefined || value === "") continue;
    // A secret must not switch on a section (a MariaDB replica, say) the files do not configure.
    if (path.length > 2 && !hasTable(merged, path.slice(0, -1))) continue;
    let table: Table = { [path[path.length - 1]!]: value };
    for (const key of path.slice(0, -1).reverse()) table = { [key]: table };
    layer = deepMerge(layer, table, `$${variable}`, new Map());
  }
  return layer;
}

function describeIssue(issue: z.core.$ZodIssue): { path: string; text: string } {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    return { path: path ? `${path}.${key}` : key, text: "unknown key" };
  }
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return { path, text: "missing required value" };
  }
  return { path, text: issue.message.replace(/^Invalid input: /, "") };
}

/**
 * Why BEDS_AMQP_USER/PASS would be dropped without a word, if they would: the URL decides the login
 * (amqplib takes user and password from it alone, guest/guest when it has neither). A URL from a
 * file must carry the credentials itself. BEDS_AMQP_URL replaces them by design (the environment chose
 * both), but not where it leaves out what they give: a URL with no user meant them, and would log in
 * as guest instead.
 */
function droppedAmqpLogin(url: string | undefined, environ: Record<string, string | undefined>) {
  const given = ["BEDS_AMQP_USER", "BEDS_AMQP_PASS"].filter((v) => environ[v]);
  if (url === undefined || !given.length) return undefined;
  if (!environ.BEDS_AMQP_URL) {
    return `${given.join(" and ")} set, but amqp.url decides the login: put the credentials in the URL ` +
      "(or BEDS_AMQP_URL), or remove amqp.url";
  }
  const { username, password } = new URL(url); // the schema checked that it parses
  const missing = given.filter((v) => v === "BEDS_AMQP_USER" ? !username : !password);
  if (!missing.length) return undefined;
  const login = username ? "with no password" : "as guest";
  return `${missing.join(" and ")} set, but BEDS_AMQP_URL decides the login and would log in ${login}: ` +
    "put the credentials in BEDS_AMQP_URL (amqp://user:pass@host/vhost), or unset it";
}

/** Every TLS table of the config, by its key path. */
export function tlsTables(config: ParsedConfig): Array<[string, TlsConfig]> {
  const { mariadb, mongodb } = config.databases;
  const tables: Array<[string, TlsConfig | undefined]> = [
    ["amqp.tls", config.amqp.tls],
    ["databases.mariadb.master.tls", mariadb?.master.tls],
    ["databases.mariadb.secondary.tls", mariadb?.secondary?.tls],
    ["databases.mongodb.tls", mongodb?.tls],
  ];
  return tables.filter((entry): entry is [string, TlsConfig] => entry[1] !== undefined);
}

/**
 * Every place the config switches TLS certificate verification off, by key path: a TLS table's
 * `reject_unauthorized = false`, and a MongoDB URL option that does the same (the driver reads
 * `tlsInsecure`, `tlsAllowInvalidCertificates` and `tlsAllowInvalidHostnames` from the URL,
 * names in any case, and `true` as the only value that switches a check off).
 */
export function unverifiedTls(config: ParsedConfig): Array<{ path: string; setting: string }> {
  // `setting` reads after the path: "amqp.tls.reject_unauthorized is false".
  const found = tlsTables(config).filter(([, tls]) => !tls.reject_unauthorized)
    .map(([path]) => ({ path: `${path}.reject_unauthorized`, setting: "is false" }));
  const url = config.databases.mongodb?.url;
  const option = url === undefined ? undefined : mongodbUnverifiedOption(url);
  if (option) found.push({ path: "databases.mongodb.url", setting: `sets ${option}=true` });
  return found;
}

const MONGODB_UNVERIFIED = ["tlsInsecure", "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames"];

/** The URL option (its canonical name) that switches a certificate check off, if any. */
function mongodbUnverifiedOption(url: string): string | undefined {
  const query = url.split("?")[1]?.split("#")[0] ?? "";
  for (const pair of query.split("&")) {
    const [key = "", value = ""] = pair.split("=", 2).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
    const option = MONGODB_UNVERIFIED.find((name) => name.toLowerCase() === key.toLowerCase());
    if (option && value === "true") return option;
  }
  return undefined;
}

/**
 * The first TLS problem a connect would meet, or hide: a file that cannot be read or is no
 * certificate or key, a certificate without its key, and in prod verification switched off.
 */
function tlsProblem(config: ParsedConfig, env: BedsEnv): { path: string; text: string } | undefined {
  const unverified = env === "prod" ? unverifiedTls(config)[0] : undefined;
  if (unverified) {
    return {
      path: unverified.path,
      text: `${unverified.setting}: TLS certificate verification must stay on in prod (anyone on the ` +
        "path could pose as the server)",
    };
  }
  for (const [path, tls] of tlsTables(config)) {
    const problem = checkTlsFiles(tls);
    if (problem) return { path: `${path}.${problem.key}`, text: problem.text };
  }
  return undefined;
}

/** Joins `path` to `base` unless it is already absolute. */
export function resolvePath(base: string, path: string): string {
  if (path.startsWith("/")) return path;
  const joined = `${base.replace(/\/+$/, "")}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Loads, merges, validates and freezes the configuration.
 * @throws {ConfigError} with a message naming the file and key path.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const environ = options.environ ?? {};
  const envName = environ.BEDS_ENV || "dev";
  if (!(ENVIRONMENTS as readonly string[]).includes(envName)) {
    throw new ConfigError(
      `Unknown BEDS_ENV "${envName}": expected one of ${ENVIRONMENTS.join(", ")}`,
    );
  }
  const env = envName as BedsEnv;
  const configDir = resolvePath(Deno.cwd(), options.dir ?? "config");
  const baseFile = `${configDir}/beds.toml`;
  const envFile = `${configDir}/env_${env}.toml`;
  const origins: Origins = new Map();
  const files = [baseFile];

  let merged = deepMerge({}, readToml(baseFile, true)!, baseFile, origins);
  const envTable = readToml(envFile, false);
  if (envTable) {
    merged = deepMerge(merged, envTable, envFile, origins);
    files.push(envFile);
  }
  merged = deepMerge(merged, envLayer(environ, merged), "environment", origins);
  if (options.overrides) merged = deepMerge(merged, options.overrides, "overrides", origins);

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const { path, text } = describeIssue(result.error.issues[0]!);
    const file = originOf(origins, path, files[files.length - 1]!);
    throw new ConfigError(`Invalid config "${file}": ${path || "(root)"}: ${text}`);
  }
  const parsed = result.data;
  const dropped = droppedAmqpLogin(parsed.amqp.url, environ);
  if (dropped) throw new ConfigError(dropped);
  const problem = checkBindings(parsed);
  if (problem) {
    const file = originOf(origins, problem.path, baseFile);
    throw new ConfigError(`Invalid config "${file}": ${problem.path}: ${problem.text}`);
  }
  const tls = tlsProblem(parsed, env);
  if (tls) {
    const file = originOf(origins, tls.path, baseFile);
    throw new ConfigError(`Invalid config "${file}": ${tls.path}: ${tls.text}`);
  }
  return deepFreeze({
    ...parsed,
    env,
    configDir,
    files,
    templatesDir: resolvePath(configDir, parsed.templates.dir),
  });
}
