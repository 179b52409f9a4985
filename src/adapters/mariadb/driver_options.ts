/**
 * The mariadb driver's options every connection of a node shares: the
 * pipelined connection sets and the transaction pool alike, so that values
 * come back in one form whichever connection ran the statement.
 *
 * @module
 */
import type { MariadbServerConfig } from "../../config/mod.ts";
import { tlsOptions } from "../../tls.ts";

/** SERVER_STATUS_IN_TRANS of the server's status flags: a transaction is open on the connection. */
export const SERVER_STATUS_IN_TRANS = 1;

/** The driver options every MariaDB connection of a node shares (the transaction pool's too). */
export function driverOptions(server: MariadbServerConfig) {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    // BIGINT as BigInt, made exact for the reply by columnValues (column_values.ts).
    bigIntAsNumber: false,
    decimalAsNumber: false,
    insertIdAsNumber: true,
    // Dates as the text the server sends, made ISO by columnValues: exact, whatever the process's zone.
    dateStrings: true,
    // JSON columns as text, parsed by columnValues: the driver's own parse can end the process.
    jsonStrings: true,
    // The session in UTC: TIMESTAMP columns and NOW() read in UTC.
    timezone: "Z",
    ssl: server.tls ? tlsOptions(server.tls) : undefined,
  };
}
