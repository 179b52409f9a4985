/**
 * The MongoDB implementation of the CRUD interface: each template names a
 * collection; reads, creates, updates and deletes work on its documents by
 * the template's key. One MongoClient per node; the driver keeps its own
 * connection pool and reconnects by itself once connected, so a server that
 * comes back is used again without any help from here. A client whose first
 * connect failed is connected again by its connector (connector.ts). No
 * named calls, no transactions.
 *
 * @module
 */
import { MongoClient } from "mongodb";
import type { MongodbConfig, TlsConfig } from "../../config/mod.ts";
import { tlsOptions } from "../../tls.ts";
import { BedsError } from "../../errors.ts";
import type { Logger } from "../../logging/mod.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { Adapter, VerifyOptions, VerifyProblem } from "../types.ts";
import { createConnector } from "./connector.ts";
import { ensureCollectionIn } from "./ensure_collection.ts";
import { mapMongoError } from "./errors.ts";
import { mongoOperations } from "./operations.ts";
import { clientOptions } from "./options.ts";
import { topologyHealth } from "./topology.ts";
import { verifyCollections } from "./verify.ts";

/** The driver's TLS options from `[databases.mongodb.tls]` (files read now; unset keys left out). */
function mongoTls(tls: TlsConfig): Record<string, unknown> {
  const defined = Object.entries(tlsOptions(tls)).filter(([, value]) => value !== undefined);
  return { tls: true, ...Object.fromEntries(defined) };
}

/** Options for {@link createMongodbAdapter}. */
export interface MongodbAdapterOptions {
  config: MongodbConfig;
  logger: Logger;
}

/** A MongoDB adapter with its client; call `open()` before use. */
export interface MongodbAdapter extends Adapter {
  /** Connects and pings the server; throws a `DB_UNAVAILABLE` BedsError when it cannot. */
  open(): Promise<void>;
  /**
   * After an `open()` that failed, for a MongoDB the node runs without (optional): keeps
   * connecting in the background until it answers, so that health says when it is back. Each
   * operation meanwhile connects first, and fails `DB_UNAVAILABLE` after `connect_timeout_ms`
   * while the server is down.
   */
  keepConnecting(): void;
  /** Physical database of a logical database name. */
  databaseOf(database: string): string;
  /**
   * Creates the template's collection when it does not exist, and these indexes on it either
   * way (an index that exists is left as it is). For collections BEDS owns (its log store).
   */
  ensureCollection(template: RecTemplate, indexes: ReadonlyArray<Record<string, 1 | -1>>): Promise<void>;
}

/** Creates the MongoDB adapter. */
export function createMongodbAdapter(options: MongodbAdapterOptions): MongodbAdapter {
  const { config, logger } = options;
  const client = new MongoClient(config.url, {
    ...clientOptions(config),
    ...(config.tls ? mongoTls(config.tls) : {}),
  });
  // Set by the driver's events, which connect() has sent by the time it resolves.
  let healthy = false;
  let servers = 0;
  client.on("topologyDescriptionChanged", (event) => {
    const { healthy: now, servers: known } = topologyHealth(event.newDescription);
    servers = known;
    if (now !== healthy) {
      (now ? logger.info : logger.warn).call(logger, { servers }, now ? "mongodb up" : "mongodb down");
    }
    healthy = now;
  });
  const databaseOf = (database: string) =>
    Object.hasOwn(config.databases, database) ? config.databases[database]! : database;
  const collectionOf = (template: RecTemplate) => {
    if (!template.collection) {
      throw new BedsError("INTERNAL", `Template "${template.name}" names no collection`);
    }
    return client.db(databaseOf(template.database)).collection(template.collection);
  };
  const ops = mongoOperations(collectionOf, { maxTimeMS: config.query_timeout_ms });
  const connector = createConnector(client);
  const ready = async () => {
    try {
      await connector.ready();
    } catch (error) {
      throw mapMongoError(error);
    }
  };
  /** An operation that connects the client first when it is not connected. */
  const connected = <I, O>(op: (input: I) => Promise<O>) => async (input: I): Promise<O> => {
    await ready();
    return await op(input);
  };

  return {
    store: "mongodb",
    databaseOf,
    async open() {
      await ready();
      try {
        await client.db(config.database).command({ ping: 1 });
      } catch (error) {
        throw mapMongoError(error);
      }
    },
    keepConnecting: () => connector.keepTrying(),
    async ensureCollection(template, indexes) {
      const name = template.collection;
      if (!name) throw new BedsError("INTERNAL", `Template "${template.name}" names no collection`);
      await ready();
      try {
        await ensureCollectionIn(client.db(databaseOf(template.database)), { name, indexes });
      } catch (error) {
        throw mapMongoError(error);
      }
    },
    read: connected(ops.read),
    create: connected(ops.create),
    update: connected(ops.update),
    delete: connected(ops.delete),
    // No named calls on MongoDB: refused without a server.
    call: ops.call,

    async verify(templates: readonly RecTemplate[], options?: VerifyOptions): Promise<VerifyProblem[]> {
      try {
        return await verifyCollections({
          templates,
          databaseOf,
          drift: options?.drift ?? false,
          // Connects only when a template is on MongoDB: the others' checks need no server.
          listCollections: async (database) => {
            await connector.ready();
            const collections = await client.db(database).listCollections({}, { nameOnly: true }).toArray();
            return collections.map((c) => c.name);
          },
          uniqueIndexes: async (database, collection) =>
            (await client.db(database).collection(collection).listIndexes().toArray())
              .filter((index) => index.unique === true || index.name === "_id_")
              .map((index) => Object.keys(index.key ?? {})),
        });
      } catch (error) {
        throw mapMongoError(error);
      }
    },

    health() {
      return { healthy, detail: { servers } };
    },

    async close() {
      await connector.close().catch(() => {});
    },
  };
}
