/**
 * The BEDS observer (log dumper): a small read-only web page over the log
 * store that works while BEDS is down. It imports nothing from BEDS.
 *
 * Run: `deno task observer` (settings: LOG_DUMPER_* variables or
 * log_dumper.toml, see README.md).
 *
 * @module
 */
import { type ObserverConfig, observerConfig } from "./config.ts";
import { createMariadbSource } from "./mariadb_source.ts";
import { createMongodbSource } from "./mongodb_source.ts";
import { unfolding } from "./unfold.ts";
import { createHandler } from "./server.ts";
import { serveKeptUp } from "./listener.ts";

/** Where settings are looked for when LOG_DUMPER_CONFIG is unset (relative to the working directory). */
const DEFAULT_FILES = ["log_dumper.toml", "utilities/log_dumper/log_dumper.toml"];

/** The settings file's text: the one named (empty name: none), else the first default that exists. */
async function readToml(named: string | undefined): Promise<string> {
  if (named !== undefined) return named === "" ? "" : await Deno.readTextFile(named);
  for (const path of DEFAULT_FILES) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return "";
}

/** What the startup line names as the store read (no credentials). */
function storeLabel(config: ObserverConfig): string {
  if (config.store === "mongodb") {
    let host = "mongodb";
    try {
      host = new URL(config.mongodb.url).host || host;
    } catch {
      // A seed list (`host1,host2`) is no URL; the label stays generic.
    }
    return `mongodb ${host}/${config.mongodb.database}.${config.mongodb.collection}`;
  }
  const db = config.mariadb;
  return `${db.user}@${db.host}:${db.port}/${db.database}`;
}

if (import.meta.main) {
  const env = Deno.env.toObject();
  const config = observerConfig(env, await readToml(env.LOG_DUMPER_CONFIG));
  const source = unfolding(
    config.store === "mongodb"
      ? createMongodbSource(config.mongodb, config.queryTimeoutMs)
      : createMariadbSource(config.mariadb, config.queryTimeoutMs),
  );
  const server = serveKeptUp({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) =>
      console.log(
        `observer on http://${hostname}:${port}/ reading ${storeLabel(config)}`,
      ),
    handler: createHandler({
      source,
      pageSize: config.pageSize,
      refreshSeconds: config.refreshSeconds,
      hosts: [config.host, ...config.allowedHosts],
    }),
  });
  const stop = () => {
    server.stop().finally(() => source.close());
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.stopped;
}
