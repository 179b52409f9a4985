/**
 * The MongoClient's options from `[databases.mongodb]`, apart from TLS
 * (which reads files): pure, so the time limits it sets are unit-tested.
 *
 * @module
 */
import type { MongoClientOptions } from "mongodb";
import type { MongodbConfig } from "../../config/mod.ts";

/**
 * How much longer than `query_timeout_ms` a socket waits for an answer. The server's own limit
 * (`maxTimeMS`) ends an operation first and says so; this only catches a server that stopped
 * answering altogether, past the round trip and the server's noticing its limit.
 */
export const SOCKET_MARGIN_MS = 5000;

/**
 * The client options of a MongoDB config (TLS left to the caller). `retryWrites` is left to the URL
 * (on by default; a server without retryable writes, such as DocumentDB, needs it off): the driver
 * sends a write once more after a network error or a failover, with the same transaction number,
 * which the server applies at most once, where BEDS's own retry is a new write (a create without
 * its key gets a new ObjectId). The price: on a replica set, a write to a server that stopped
 * answering fails only after twice (`query_timeout_ms` + {@link SOCKET_MARGIN_MS}).
 */
export function clientOptions(config: MongodbConfig): MongoClientOptions {
  return {
    appName: "beds",
    // Short, so a request to a server that is down fails (and is retried) instead of hanging.
    serverSelectionTimeoutMS: config.connect_timeout_ms,
    connectTimeoutMS: config.connect_timeout_ms,
    socketTimeoutMS: config.query_timeout_ms + SOCKET_MARGIN_MS,
    // The driver would send a read again after a socket timeout: a server that stopped answering
    // would hold it twice as long. BEDS retries no read; its client does, after a back-off.
    retryReads: false,
    // Joins the URL's `w` (and replaces a `wtimeoutMS` there): a write waits for replication no
    // longer than a read may run.
    writeConcern: { wtimeoutMS: config.query_timeout_ms },
  };
}
