/**
 * The log store on MariaDB, read from the view `v_ms_logs` with the
 * observer's own read-only account. Values are always bound parameters.
 *
 * @module
 */
import mariadb, { type PoolConfig } from "mariadb";
import type { MariadbTls, ObserverConfig } from "./config.ts";
import {
  fromStore,
  type LogRecord,
  type LogSource,
  plainDoc,
  type RecordFilter,
  storedTime,
} from "./source.ts";

const COLUMNS =
  "id, event, parent, kind, level, at, node, broker, template, op, code, action, attempt, ms, " +
  "nrows, message, doc";

/**
 * A stored time (UTC, `YYYY-MM-DD hh:mm:ss.fff`, read as text) in ISO form. Read as a Date the driver
 * would take it for the process's local time: on a host not in UTC every time would be shifted.
 */
function isoTime(at: unknown): string {
  if (at instanceof Date) return at.toISOString();
  const text = String(at);
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(text) ? `${text.replace(" ", "T")}Z` : text;
}

/** A row of `v_ms_logs` as a record. */
export function rowRecord(row: Record<string, unknown>): LogRecord {
  const s = (v: unknown) => v === null || v === undefined ? null : String(v);
  const n = (v: unknown) => v === null || v === undefined ? null : Number(v);
  return {
    id: Number(row.id),
    event: String(row.event),
    parent: s(row.parent),
    kind: String(row.kind),
    level: String(row.level),
    at: isoTime(row.at),
    node: String(row.node),
    broker: s(row.broker),
    template: s(row.template),
    op: s(row.op),
    code: s(row.code),
    action: s(row.action),
    attempt: n(row.attempt),
    ms: n(row.ms),
    rows: n(row.nrows),
    message: s(row.message),
    doc: typeof row.doc === "string" ? plainDoc(row.doc) : {},
  };
}

/** The WHERE clause and values of a filter. */
export function filterSql(filter: RecordFilter): { where: string; values: unknown[] } {
  const terms: string[] = [];
  const values: unknown[] = [];
  for (const field of ["node", "level", "kind", "template", "code"] as const) {
    const value = filter[field];
    if (value) {
      terms.push(`${field} = ?`);
      values.push(value);
    }
  }
  // As statusOf says.
  if (filter.status === "ok") terms.push("code IS NULL AND level = 'info'");
  if (filter.status === "error") terms.push("(code IS NOT NULL OR level = 'error')");
  const since = storedTime(filter.since);
  const until = storedTime(filter.until);
  if (since) terms.push("at >= ?"), values.push(since);
  if (until) terms.push("at < ?"), values.push(until);
  if (filter.before !== undefined) terms.push("id < ?"), values.push(filter.before);
  return { where: terms.length ? `WHERE ${terms.join(" AND ")}` : "", values };
}

/**
 * The driver's `ssl` option: the files read now, verification always on. Read at start, so a
 * missing or unreadable file stops the observer with its setting named, not every page later.
 * The same as src/tls.ts `tlsOptions`, written again: the observer imports nothing from src/
 * (it must run while BEDS does not); change both together.
 * @throws {Error} naming the setting and the file that cannot be read.
 */
export function sslOptions(tls: MariadbTls) {
  const read = (key: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(`Cannot read observer setting mariadb.${key} "${path}": ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  return {
    ca: read("tls_ca_file", tls.caFile),
    cert: read("tls_cert_file", tls.certFile),
    key: read("tls_key_file", tls.keyFile),
    servername: tls.servername,
    rejectUnauthorized: true,
  };
}

/** The pool's settings: how long a statement, and a connection that gets no answer, may take. */
export function poolOptions(config: ObserverConfig["mariadb"], queryTimeoutMs: number): PoolConfig {
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    ...(config.tls ? { ssl: sslOptions(config.tls) } : {}),
    connectionLimit: 2,
    acquireTimeout: 5000,
    connectTimeout: 3000,
    // The server ends a statement that runs longer (max_statement_time): a filter on a column without
    // an index scans the table, and nothing else stops it.
    queryTimeout: queryTimeoutMs,
    // A connection that hears nothing for longer (a stalled network, a failed-over server) is closed
    // and the pool opens another; without it, it would be held for good and the pool run dry.
    socketTimeout: queryTimeoutMs + 5000,
    keepAliveDelay: 5000,
    // Idle connections close before their socket timeout would end them, and are opened on demand.
    minimumIdle: 0,
    idleTimeout: Math.max(1, Math.floor(queryTimeoutMs / 1000)),
    timezone: "Z",
    // Times as the text stored, UTC: see isoTime.
    dateStrings: true,
    bigIntAsNumber: true,
    // Belt and braces: the account should only have SELECT on the view anyway.
    initSql: "SET SESSION TRANSACTION READ ONLY",
  };
}

/** Opens a small read-only pool on the log store's schema. */
export function createMariadbSource(config: ObserverConfig["mariadb"], queryTimeoutMs: number): LogSource {
  const pool = mariadb.createPool(poolOptions(config, queryTimeoutMs));

  // The driver takes no AbortSignal. A connection destroyed while it runs a statement has that
  // statement's session killed on the server (the driver sends KILL over a connection of its own), and
  // the pool opens another: so a reader that went away stops its scan.
  const run = async (sql: string, values: unknown[], signal?: AbortSignal) => {
    signal?.throwIfAborted();
    const conn = await pool.getConnection();
    // A listener added to a signal that already aborted never runs: the reader left while we waited.
    if (signal?.aborted) {
      await conn.release();
      signal.throwIfAborted();
    }
    let destroyed = false;
    const stop = () => {
      destroyed = true;
      conn.destroy();
    };
    signal?.addEventListener("abort", stop, { once: true });
    try {
      return await conn.query({ sql, namedPlaceholders: false }, values) as Record<string, unknown>[];
    } finally {
      signal?.removeEventListener("abort", stop);
      if (!destroyed) await conn.release();
    }
  };
  const select = async (sql: string, values: unknown[], signal?: AbortSignal) =>
    (await fromStore(() => run(sql, values, signal))).map(rowRecord);

  return {
    recent(filter, limit, signal) {
      const { where, values } = filterSql(filter);
      return select(
        `SELECT ${COLUMNS} FROM v_ms_logs ${where} ORDER BY id DESC LIMIT ?`,
        [...values, limit],
        signal,
      );
    },
    chain(event, limit, signal) {
      const root = event.split(".", 1)[0]!;
      // One range scan of the event key: the root and every id extending it ("/" follows ".").
      return select(
        `SELECT ${COLUMNS} FROM v_ms_logs WHERE event = ? OR (event >= ? AND event < ?) ORDER BY at, id LIMIT ?`,
        [root, `${root}.`, `${root}/`, limit],
        signal,
      );
    },
    events(ids, signal) {
      if (ids.length === 0) return Promise.resolve([]);
      return select(
        `SELECT ${COLUMNS} FROM v_ms_logs WHERE event IN (${ids.map(() => "?").join(", ")}) ORDER BY at, id`,
        [...ids],
        signal,
      );
    },
    close: () => pool.end(),
  };
}
