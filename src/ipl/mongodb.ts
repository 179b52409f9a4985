/**
 * The MongoDB half of the `db_pools` step: open the adapter when
 * `[databases.mongodb]` is configured. A MongoDB that cannot be reached is
 * fatal unless it is optional and the environment is not prod; then the
 * node runs without it, and `templates_load` rejects any template that
 * needs it, as it does for every store the node lacks.
 *
 * @module
 */
import { createMongodbAdapter } from "../adapters/mod.ts";
import { redact } from "../config/mod.ts";
import type { IplContext } from "./context.ts";
import { tcpReachable } from "./reachability.ts";
import type { StepOutcome } from "./runner.ts";

/** Host and port of a MongoDB URL (the first host of a list; 27017 by default). */
export function mongoEndpoint(url: string): { host: string; port: number } {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/:,?]+)(?::(\d+))?/.exec(url);
  return { host: match?.[1] ?? "127.0.0.1", port: Number(match?.[2] ?? 27017) };
}

/** Opens and registers the MongoDB adapter, or explains why the node goes on without it. */
export async function openMongodb(ctx: IplContext): Promise<StepOutcome> {
  const config = ctx.config.databases.mongodb;
  if (!config) return {};
  const where = redact(config.url);
  const { host, port } = mongoEndpoint(config.url);
  // A closed port answers at once, while the driver would wait out its whole server
  // selection timeout. The reachability step has already reported that case.
  const srv = config.url.startsWith("mongodb+srv:");
  const reachable = srv || await tcpReachable(host, port, config.connect_timeout_ms);
  const adapter = createMongodbAdapter({ config, logger: ctx.logger });
  let failure: string | undefined;
  if (reachable) {
    try {
      await adapter.open();
    } catch (error) {
      const cause = (error as Error).cause as Error | undefined;
      failure = String(cause?.message ?? (error as Error).message).split("\n")[0];
    }
  } else {
    failure = `${host}:${port} is not reachable`;
  }
  if (failure === undefined) {
    ctx.adapters.set("mongodb", adapter);
    return {
      detail: `mongodb ${where}`,
      undo: async () => {
        ctx.adapters.delete("mongodb");
        await adapter.close();
      },
    };
  }
  await adapter.close();
  const message = `MongoDB connect to ${where} failed: ${failure}`;
  if (!config.optional || ctx.config.env === "prod") throw new Error(message);
  ctx.logger.warn({ mongodb: where }, `${message}; running without MongoDB`);
  return {
    detail: "mongodb not connected (optional)",
    warnings: reachable ? [`optional service mongodb: ${failure}`] : [],
  };
}
