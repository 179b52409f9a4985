/**
 * The log store on MariaDB, read from the view `v_ms_logs` with the
 * observer's own read-only account. Values are always bound parameters.
 *
 * @module
 */
import mariadb from "mariadb";
import type { ObserverConfig } from "./config.ts";
import type { LogRecord, LogSource, RecordFilter } from "./source.ts";

const COLUMNS =
  "id, event, parent, kind, level, at, node, broker, template, op, code, action, attempt, ms, " +
  "nrows, message, doc";

/** `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04:05.678`; undefined when not a time. */
function sqlTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().slice(0, 23).replace("T", " ");
}

function toRecord(row: Record<string, unknown>): LogRecord {
  let doc: Record<string, unknown> = {};
  try {
    doc = typeof row.doc === "string" ? JSON.parse(row.doc) : {};
  } catch {
    doc = {};
  }
  const s = (v: unknown) => v === null || v === undefined ? null : String(v);
  const n = (v: unknown) => v === null || v === undefined ? null : Number(v);
  return {
    id: Number(row.id),
    event: String(row.event),
    parent: s(row.parent),
    kind: String(row.kind),
    level: String(row.level),
    at: row.at instanceof Date ? row.at.toISOString() : String(row.at),
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
    doc,
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
  if (filter.status === "ok") terms.push("code IS NULL");
  if (filter.status === "error") terms.push("code IS NOT NULL");
  const since = sqlTime(filter.since);
  const until = sqlTime(filter.until);
  if (since) terms.push("at >= ?"), values.push(since);
  if (until) terms.push("at < ?"), values.push(until);
  if (filter.before !== undefined) terms.push("id < ?"), values.push(filter.before);
  return { where: terms.length ? `WHERE ${terms.join(" AND ")}` : "", values };
}

/** Opens a small read-only pool on the log store's schema. */
export function createMariadbSource(config: ObserverConfig["mariadb"]): LogSource {
  const pool = mariadb.createPool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    connectionLimit: 2,
    acquireTimeout: 5000,
    connectTimeout: 3000,
    timezone: "Z",
    bigIntAsNumber: true,
    // Belt and braces: the account should only have SELECT on the view anyway.
    initSql: "SET SESSION TRANSACTION READ ONLY",
  });
  const select = async (sql: string, values: unknown[]) =>
    ((await pool.query({ sql, namedPlaceholders: false }, values)) as Record<string, unknown>[]).map(
      toRecord,
    );

  return {
    recent(filter, limit) {
      const { where, values } = filterSql(filter);
      return select(`SELECT ${COLUMNS} FROM v_ms_logs ${where} ORDER BY id DESC LIMIT ?`, [...values, limit]);
    },
    chain(event) {
      const root = event.split(".", 1)[0]!;
      // One range scan of the event key: the root and every id extending it ("/" follows ".").
      return select(
        `SELECT ${COLUMNS} FROM v_ms_logs WHERE event = ? OR (event >= ? AND event < ?) ORDER BY at, id LIMIT 5000`,
        [root, `${root}.`, `${root}/`],
      );
    },
    close: () => pool.end(),
  };
}
