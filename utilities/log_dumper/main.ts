/**
 * The BEDS observer (log dumper): a small read-only web page over the log
 * store that works while BEDS is down. It imports nothing from BEDS.
 *
 * Run: `deno task observer` (settings: LOG_DUMPER_* variables or
 * log_dumper.toml, see README.md).
 *
 * @module
 */
import { observerConfig } from "./config.ts";
import { createMariadbSource } from "./mariadb_source.ts";
import { createHandler } from "./server.ts";

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

if (import.meta.main) {
  const env = Deno.env.toObject();
  const config = observerConfig(env, await readToml(env.LOG_DUMPER_CONFIG));
  const source = createMariadbSource(config.mariadb);
  const server = Deno.serve(
    {
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) =>
        console.log(
          `observer on http://${hostname}:${port}/ reading ${config.mariadb.user}@${config.mariadb.host}:${config.mariadb.port}/${config.mariadb.database}`,
        ),
    },
    createHandler({ source, pageSize: config.pageSize, refreshSeconds: config.refreshSeconds }),
  );
  const stop = () => {
    server.shutdown().finally(() => source.close());
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
}
