/**
 * Configuration: layered TOML (`beds.toml`, then `env_<BEDS_ENV>.toml`),
 * then environment variables for secrets, validated with zod and frozen.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./mod.ts";
 * const config = loadConfig({ dir: "config", environ: { BEDS_ENV: "lab" } });
 * console.log(config.node.name);
 * ```
 *
 * @module
 */
export {
  type BedsEnv,
  type Config,
  ENV_VARIABLES,
  ENVIRONMENTS,
  loadConfig,
  type LoadConfigOptions,
  resolvePath,
} from "./load.ts";
export { bindingsOverlap, checkBindings } from "./bindings.ts";
export { redact } from "./redact.ts";
export { configDigest } from "./digest.ts";
export {
  type AccessConfig,
  type AdminConfig,
  type AmqpConfig,
  type BrokerConfig,
  type GatewayConfig,
  type HttpConfig,
  type LimitsConfig,
  type LogstoreConfig,
  type MariadbConfig,
  type MariadbServerConfig,
  type MongodbConfig,
  type Op,
  OPS,
  type TlsConfig,
} from "./schema.ts";
