/**
 * Turns configured TLS file paths into Node TLS options, and TLS handshake
 * failures into one-line reasons an operator can act on. Files are read at
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

/**
 * Reads the CA, certificate and key files named by `tls`.
 * @throws {Error} naming the key and the file that cannot be read.
 */
export function tlsOptions(tls: TlsConfig): TlsOptions {
  const read = (key: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(`Cannot read TLS ${key} file "${path}": ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    ca: read("ca", tls.ca),
    cert: read("cert", tls.cert),
    key: read("key", tls.key),
    servername: tls.servername,
    rejectUnauthorized: tls.reject_unauthorized,
  };
}

/** Node/OpenSSL verification codes of a certificate no configured CA vouches for. */
const UNKNOWN_AUTHORITY = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);

const REASONS: Readonly<Record<string, string>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS hostname does not match the server certificate",
  CERT_HAS_EXPIRED: "TLS server certificate has expired",
  CERT_NOT_YET_VALID: "TLS server certificate is not yet valid",
};

/**
 * A one-line reason for a TLS failure (`certificate signed by unknown
 * authority`, `hostname does not match …`) followed by the driver's own
 * message, or undefined when `error` is no certificate failure.
 */
export function describeTlsError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  const message = (error as Error).message ?? "";
  const reason = UNKNOWN_AUTHORITY.has(code)
    ? "TLS certificate signed by unknown authority (check tls.ca)"
    : REASONS[code];
  return reason === undefined ? undefined : `${reason}: ${message.split("\n")[0]} (${code})`;
}
