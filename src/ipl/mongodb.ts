/**
 * The MongoDB half of the `db_pools` step: open the adapter when
 * `[databases.mongodb]` is configured. A MongoDB that cannot be reached is
 * fatal unless it is optional and the environment is not prod; then the
 * node runs without it, and `templates_load` rejects any template that
 * needs it, as it does for every store the node lacks. Reachable means any
 * host of the URL's seed list answers TCP; an SRV URL is not probed (the
 * driver resolves its name to hosts), and opening the adapter decides.
 *
 * @module
 */
import { createMongodbAdapter } from "../adapters/mod.ts";
import type { IplContext } from "./context.ts";
import { tcpReachable } from "./reachability.ts";
import type { StepOutcome } from "./runner.ts";

/** One host of a MongoDB seed list. */
export interface MongoHost {
  host: string;
  port: number;
}

/**
 * The hosts of a MongoDB URL's seed list (27017 where none is given), or undefined when no TCP
 * probe can judge it: an SRV name (`mongodb+srv://`), which the driver resolves to hosts of its
 * own, or a Unix socket path.
 */
export function mongoSeeds(url: string): MongoHost[] | undefined {
  const match = /^mongodb:\/\/(?:[^@/?#]*@)?([^/?#]+)/.exec(url);
  if (!match) return undefined;
  const hosts: MongoHost[] = [];
  for (const seed of match[1]!.split(",")) {
    // `[::1]:27017`, `host:27017` or `host`.
    const parts = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(seed);
    const host = parts?.[1] ?? parts?.[2];
    if (!host || /%2f/i.test(host)) return undefined; // a socket path, `%2Ftmp%2Fmongodb.sock`
    hosts.push({ host, port: Number(parts![3] ?? 27017) });
  }
  return hosts;
}

/** `host:port` of each seed, as a reader looks for them in a message. */
export function describeSeeds(seeds: readonly MongoHost[]): string {
  const one = ({ host, port }: MongoHost) => host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return seeds.map(one).join(",");
}

/**
 * How logs, reports and errors name a MongoDB: its hosts (a seed list's `host:port`, an SRV name or a
 * socket path) and its database. Never the URL: besides the credentials, its query may carry secrets
 * (`tlsCertificateKeyFilePassword`, an AWS session token in `authMechanismProperties`, …).
 */
export function describeMongo(url: string, database: string): string {
  const seeds = mongoSeeds(url);
  const [, srv, hosts = ""] = /^mongodb(\+srv)?:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url) ?? [];
  // A socket path is written `%2Ftmp%2Fmongodb.sock`.
  const where = seeds ? describeSeeds(seeds) : srv ? `SRV ${hosts}` : hosts.replaceAll(/%2f/gi, "/");
  return `${where} (database "${database}")`;
}

/**
 * Whether any host of a seed list answers TCP within `timeoutMs`: one that answers is enough for
 * the driver to find the rest of a replica set, whichever seed is down.
 */
export async function anySeedReachable(seeds: readonly MongoHost[], timeoutMs: number): Promise<boolean> {
  const answers = async ({ host, port }: MongoHost) => {
    if (!await tcpReachable(host, port, timeoutMs)) throw new Error(`${host}:${port} is down`);
    return true;
  };
  // The first host that answers decides; only when every one fails is the list down.
  return await Promise.any(seeds.map(answers)).catch(() => false);
}

/** Opens and registers the MongoDB adapter, or explains why the node goes on without it. */
export async function openMongodb(ctx: IplContext): Promise<StepOutcome> {
  const config = ctx.config.databases.mongodb;
  if (!config) return {};
  const where = describeMongo(config.url, config.database);
  // A closed port answers at once, while the driver would wait out its whole server selection
  // timeout. The reachability step has already reported that case. An SRV name is left to the
  // driver, which resolves it.
  const seeds = mongoSeeds(config.url);
  const reachable = !seeds || await anySeedReachable(seeds, config.connect_timeout_ms);
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
    const list = describeSeeds(seeds!);
    failure = seeds!.length > 1 ? `none of ${list} is reachable` : `${list} is not reachable`;
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
