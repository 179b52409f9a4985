/**
 * The observer's own configuration: `LOG_DUMPER_*` environment variables over
 * an optional TOML file (`LOG_DUMPER_CONFIG`, default `log_dumper.toml` in
 * the working directory). It shares nothing with the BEDS config on purpose:
 * the observer must run while BEDS is down, with its own read-only account.
 *
 * @module
 */
import { parse } from "smol-toml";

/** Everything the observer needs. */
export interface ObserverConfig {
  /** Address to bind. @default "127.0.0.1" */
  host: string;
  /** @default 8089 */
  port: number;
  /**
   * Names the `Host` header may carry besides IP literals, `localhost` and `host`, e.g. the name of a
   * proxy in front (`[server] allowed_hosts`, LOG_DUMPER_ALLOWED_HOSTS comma-separated). Any other is
   * answered 421, so a page reached through a rebound DNS name cannot read the log. @default []
   */
  allowedHosts: string[];
  /** Seconds between refreshes of the event list; 0 turns it off. @default 5 */
  refreshSeconds: number;
  /** Events per page. @default 50 */
  pageSize: number;
  /** Which store holds the log records. @default "mariadb" */
  store: "mariadb" | "mongodb";
  /**
   * How long one read of the store may take (MariaDB `max_statement_time`, MongoDB `maxTimeMS`); a
   * connection that hears nothing for 5 s longer is closed. A filter without a time window may scan
   * the whole log, and this bounds it. @default 10000
   */
  queryTimeoutMs: number;
  mariadb: {
    host: string;
    port: number;
    user: string;
    password: string;
    /** Schema holding the view `v_ms_logs`. */
    database: string;
    /** TLS to the server, verified; absent: plain TCP. */
    tls?: MariadbTls;
  };
  mongodb: {
    /** Connection string; credentials may be in it (better: in LOG_DUMPER_MONGODB_URL). */
    url: string;
    /** Physical database of the log store (BEDS `[logstore] database`, mapped by `[databases.mongodb.databases]`). */
    database: string;
    /** @default "msLogs" */
    collection: string;
    /** CA file to verify the server's certificate; setting it turns TLS on. */
    tlsCaFile?: string;
  };
}

/**
 * TLS to MariaDB: any key turns it on, and the server's certificate is always verified (by `caFile`,
 * else the system's CAs) against `servername`, else the host. The log holds request data: an account
 * that may log in without TLS would read it in clear text.
 */
export interface MariadbTls {
  /** CA file to verify the server's certificate. */
  caFile?: string;
  /** Client certificate and its key (an account `REQUIRE X509`), only together. */
  certFile?: string;
  keyFile?: string;
  /** Name to verify when it differs from host. */
  servername?: string;
}

const DEFAULTS: ObserverConfig = {
  host: "127.0.0.1",
  port: 8089,
  allowedHosts: [],
  refreshSeconds: 5,
  pageSize: 50,
  store: "mariadb",
  queryTimeoutMs: 10_000,
  mariadb: { host: "127.0.0.1", port: 3306, user: "beds_observer", password: "", database: "beds_lab" },
  mongodb: { url: "mongodb://127.0.0.1:27017", database: "logs", collection: "msLogs" },
};

const STORES = ["mariadb", "mongodb"] as const;

function store(value: unknown): ObserverConfig["store"] {
  const found = STORES.find((s) => s === value);
  if (!found) {
    throw new Error(
      `Invalid observer setting store: expected mariadb or mongodb, got ${JSON.stringify(value)}`,
    );
  }
  return found;
}

function int(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(
      `Invalid observer setting ${name}: expected an integer ${min}–${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function text(name: string, value: unknown): string {
  if (typeof value !== "string") throw new Error(`Invalid observer setting ${name}: expected a string`);
  return value;
}

/** A list of host names: a TOML array of strings, or one string of comma-separated names (env). */
function names(name: string, value: unknown): string[] {
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
    throw new Error(`Invalid observer setting ${name}: expected a list of host names`);
  }
  return list.map((item) => item.trim()).filter((item) => item !== "");
}

/** The `[mariadb]` TLS keys (LOG_DUMPER_DB_TLS_*), or undefined when none is set. */
function mariadbTls(
  pick: (key: string, fromFile: unknown, fallback: unknown) => unknown,
  db: Record<string, unknown>,
): MariadbTls | undefined {
  const keys = [
    ["caFile", "CA_FILE", "tls_ca_file"],
    ["certFile", "CERT_FILE", "tls_cert_file"],
    ["keyFile", "KEY_FILE", "tls_key_file"],
    ["servername", "SERVERNAME", "servername"],
  ] as const;
  const tls: MariadbTls = {};
  for (const [field, variable, key] of keys) {
    const value = pick(`DB_TLS_${variable}`, db[key], undefined);
    if (value !== undefined && value !== "") tls[field] = text(`mariadb.${key}`, value);
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new Error(
      "Invalid observer setting mariadb.tls_cert_file/tls_key_file: a client certificate needs its key, " +
        "set both or neither",
    );
  }
  return Object.keys(tls).length ? tls : undefined;
}

/**
 * Builds the config from TOML text (top-level `store` and `query_timeout_ms`, sections `[server]`,
 * `[mariadb]` and `[mongodb]`) and environment variables, the latter winning.
 */
export function observerConfig(env: Record<string, string | undefined>, toml = ""): ObserverConfig {
  const file = (toml ? parse(toml) : {}) as {
    store?: unknown;
    query_timeout_ms?: unknown;
    server?: Record<string, unknown>;
    mariadb?: Record<string, unknown>;
    mongodb?: Record<string, unknown>;
  };
  const server = file.server ?? {};
  const db = file.mariadb ?? {};
  const mongo = file.mongodb ?? {};
  // An empty variable is unset, as for BEDS itself: a compose file passes `${VAR}` as "" when VAR is unset.
  const pick = (key: string, fromFile: unknown, fallback: unknown) =>
    env[`LOG_DUMPER_${key}`] || (fromFile ?? fallback);
  const tlsCaFile = pick("MONGODB_TLS_CA_FILE", mongo.tls_ca_file, undefined);
  const dbTls = mariadbTls(pick, db);
  return {
    host: text("host", pick("HOST", server.host, DEFAULTS.host)),
    port: int("port", pick("PORT", server.port, DEFAULTS.port), 0, 65535),
    allowedHosts: names("allowed_hosts", pick("ALLOWED_HOSTS", server.allowed_hosts, DEFAULTS.allowedHosts)),
    refreshSeconds: int(
      "refresh_seconds",
      pick("REFRESH", server.refresh_seconds, DEFAULTS.refreshSeconds),
      0,
      3600,
    ),
    pageSize: int("page_size", pick("PAGE_SIZE", server.page_size, DEFAULTS.pageSize), 1, 1000),
    store: store(pick("STORE", file.store, DEFAULTS.store)),
    queryTimeoutMs: int(
      "query_timeout_ms",
      pick("QUERY_TIMEOUT_MS", file.query_timeout_ms, DEFAULTS.queryTimeoutMs),
      100,
      600_000,
    ),
    mariadb: {
      host: text("mariadb.host", pick("DB_HOST", db.host, DEFAULTS.mariadb.host)),
      port: int("mariadb.port", pick("DB_PORT", db.port, DEFAULTS.mariadb.port), 1, 65535),
      user: text("mariadb.user", pick("DB_USER", db.user, DEFAULTS.mariadb.user)),
      password: text("mariadb.password", pick("DB_PASSWORD", db.password, DEFAULTS.mariadb.password)),
      database: text("mariadb.database", pick("DB_NAME", db.database, DEFAULTS.mariadb.database)),
      ...(dbTls ? { tls: dbTls } : {}),
    },
    mongodb: {
      url: text("mongodb.url", pick("MONGODB_URL", mongo.url, DEFAULTS.mongodb.url)),
      database: text("mongodb.database", pick("MONGODB_DATABASE", mongo.database, DEFAULTS.mongodb.database)),
      collection: text(
        "mongodb.collection",
        pick("MONGODB_COLLECTION", mongo.collection, DEFAULTS.mongodb.collection),
      ),
      ...(tlsCaFile ? { tlsCaFile: text("mongodb.tls_ca_file", tlsCaFile) } : {}),
    },
  };
}
