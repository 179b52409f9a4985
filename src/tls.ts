/**
 * Turns configured TLS file paths into Node TLS options. Files are read at
 * run time from the paths in config.
 *
 * @module
 */
import type { TlsConfig } from "./config/mod.ts";

/** Node `tls.connect` options for the given config. */
export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** Reads the CA, certificate and key files named by `tls`. */
export function tlsOptions(tls: TlsConfig): TlsOptions {
  const read = (path: string | undefined) => path === undefined ? undefined : Deno.readTextFileSync(path);
  return {
    ca: read(tls.ca),
    cert: read(tls.cert),
    key: read(tls.key),
    servername: tls.servername,
    rejectUnauthorized: tls.reject_unauthorized,
  };
}
