/**
 * The MongoDB half of the `db_pools` step: open the adapter when
 * `[databases.mongodb]` is configured. A MongoDB that cannot be reached is
 * fatal unless it is optional and the environment is not prod; then the
 * node serves its other templates, and the adapter is registered all the
 * same, connecting in the background: its templates (and REL parts on them)
 * answer DB_UNAVAILABLE until it answers, then work, with no restart. Their
 * check against the collections is skipped, with a warning, while it is
 * down. Reachable means any host of the URL's seed list answers TCP; an SRV
 * URL is not probed (the driver resolves its name to hosts), and opening
 * the adapter decides.
 *
 * @module
 */
import { createMongodbAdapter, type MongodbAdapter } from "../adapters/mod.ts";
import { BedsError } from "../errors.ts";
import type { Logger } from "../logging/mod.ts";
import type { Config } from "../config/mod.ts";
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

/**
 * An optional MongoDB's adapter as the node serves it: while the server is down, `verify` (at
 * start-up, on a reload) warns and passes its templates unchecked rather than stopping the node,
 * as the other steps do for an optional service, and the log store's `ensureCollection` fails at
 * once rather than after `connect_timeout_ms` (the step then warns, as before).
 */
function optionalMongodb(adapter: MongodbAdapter, logger: Logger, where: string): MongodbAdapter {
  return {
    ...adapter,
    async ensureCollection(template, indexes) {
      if (!adapter.health().healthy) {
        throw new BedsError("DB_UNAVAILABLE", `the optional MongoDB ${where} is down`);
      }
      await adapter.ensureCollection(template, indexes);
    },
    async verify(templates, options) {
      const mongo = templates.filter((t) => t.store === "mongodb");
      // Without a template on MongoDB it asks the server nothing.
      if (!mongo.length) return await adapter.verify(templates, options);
      if (adapter.health().healthy) {
        try {
          return await adapter.verify(templates, options);
        } catch (error) {
          if (!(error instanceof BedsError && error.code === "DB_UNAVAILABLE")) throw error;
        }
      }
      logger.warn(
        { mongodb: where, templates: mongo.map((t) => t.name) },
        "optional MongoDB is down: its templates are not checked against its collections",
      );
      return [];
    },
  };
}

/** Whether the config's MongoDB is optional here: `optional = true`, and the environment is not prod. */
export function optionalMongodbConfigured(config: Config): boolean {
  return config.databases.mongodb?.optional === true && config.env !== "prod";
}

/** Opens and registers the MongoDB adapter: connected, or for an optional one connecting later. */
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
  const optional = optionalMongodbConfigured(ctx.config);
  if (failure !== undefined && !optional) {
    await adapter.close();
    throw new Error(`MongoDB connect to ${where} failed: ${failure}`);
  }
  ctx.adapters.set("mongodb", optional ? optionalMongodb(adapter, ctx.logger, where) : adapter);
  const undo = async () => {
    ctx.adapters.delete("mongodb");
    await adapter.close();
  };
  if (failure === undefined) return { detail: `mongodb ${where}`, undo };
  adapter.keepConnecting();
  const until = "its templates answer DB_UNAVAILABLE until it is up, and are not checked against it";
  ctx.logger.warn({ mongodb: where }, `MongoDB connect to ${where} failed: ${failure}; ${until}`);
  return {
    detail: `mongodb not connected (optional): ${until}`,
    // The reachability step has warned about a MongoDB that does not even answer TCP.
    warnings: reachable ? [`optional service mongodb: ${failure}`] : [],
    undo,
  };
}
