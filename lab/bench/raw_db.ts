/**
 * The database half of the raw ceiling: the same statements BEDS runs, made
 * directly with the mariadb driver, either through the driver's pool (text
 * queries, its plain use) or through a few dedicated pipelined connections
 * (least in flight first, prepared statements as BEDS uses).
 *
 * @module
 */
import mariadb from "mariadb";
import type { RawStatement } from "./scenario.ts";

/** How the raw side reaches MariaDB. */
export type RawDbMode = "pool" | "pipelined";

/** Options for {@link openRawDb}. */
export interface RawDbOptions {
  mode: RawDbMode;
  /** Pool size, or number of pipelined connections. */
  connections: number;
  database: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
}

/** Direct database access. */
export interface RawDb {
  /** Runs the statements concurrently; resolves with one driver result each. */
  run(statements: readonly RawStatement[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** Driver settings BEDS uses too, so both sides convert values the same way. */
function driverOptions(options: RawDbOptions) {
  return {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 3306,
    user: options.user ?? "root",
    password: options.password ?? "",
    database: options.database,
    bigIntAsNumber: true,
    decimalAsNumber: false,
    insertIdAsNumber: true,
    timezone: "Z",
  };
}

/** Opens the pool or the pipelined connections. */
export async function openRawDb(options: RawDbOptions): Promise<RawDb> {
  if (options.mode === "pool") {
    const pool = mariadb.createPool({
      ...driverOptions(options),
      connectionLimit: options.connections,
      minimumIdle: options.connections,
    });
    // Open every connection before measuring.
    const conns = await Promise.all(Array.from({ length: options.connections }, () => pool.getConnection()));
    await Promise.all(conns.map((c) => c.release()));
    const one = (s: RawStatement) => pool.query(s.sql, s.values);
    return {
      run: (statements) =>
        statements.length === 1 ? one(statements[0]!).then((r) => [r]) : Promise.all(statements.map(one)),
      close: () => pool.end(),
    };
  }
  const slots = await Promise.all(
    Array.from({ length: options.connections }, async () => ({
      conn: await mariadb.createConnection({ ...driverOptions(options), pipelining: true }),
      inflight: 0,
    })),
  );
  const one = async (s: RawStatement) => {
    let slot = slots[0]!;
    for (const candidate of slots) if (candidate.inflight < slot.inflight) slot = candidate;
    slot.inflight++;
    try {
      // Prepared, as BEDS runs its statements (src/adapters/mariadb/connections.ts): the ceiling
      // gets the same advantage, so the ratio measures BEDS's own logic and not the protocol.
      return await slot.conn.execute(s.sql, s.values);
    } finally {
      slot.inflight--;
    }
  };
  return {
    run: (statements) =>
      statements.length === 1 ? one(statements[0]!).then((r) => [r]) : Promise.all(statements.map(one)),
    async close() {
      await Promise.all(slots.map((s) => s.conn.end().catch(() => s.conn.destroy())));
    },
  };
}
