/**
 * Turns configured TLS file paths into Node TLS options, and TLS handshake
 * failures into one-line reasons an operator can act on. The files are
 * checked once at config load, and read again at each (re)connect, so that
 * a renewed certificate is picked up without a restart.
 *
 * @module
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
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

/** A problem with one TLS file: the key (`cert`) and what is wrong, naming the file, never its content. */
export interface TlsFileProblem {
  key: "ca" | "cert" | "key";
  text: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** A private key's PEM block; the file may hold the certificate as well (one file for both). */
const PEM_PRIVATE_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/**
 * Checks the files of a TLS table as a connect would use them: each readable, `ca` and `cert`
 * PEM certificates, `key` a PEM private key (unencrypted: there is no passphrase setting) that
 * belongs to `cert`, and `cert` and `key` only together. A bad client identity would otherwise be
 * left out of the handshake without a word, or fail it as "unsupported protocol".
 */
export function checkTlsFiles(tls: TlsConfig): TlsFileProblem | undefined {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const [given, missing] = tls.cert === undefined ? ["key", "cert"] as const : ["cert", "key"] as const;
    return {
      key: given,
      text: `set without ${missing}: a client certificate needs its key, set both or neither`,
    };
  }
  const files: Partial<Record<TlsFileProblem["key"], string>> = {};
  for (const key of ["ca", "cert", "key"] as const) {
    const path = tls[key];
    if (path === undefined) continue;
    try {
      files[key] = Deno.readTextFileSync(path);
    } catch (error) {
      return { key, text: `cannot read file "${path}": ${(error as Error).message}` };
    }
  }
  const certificates = (key: "ca" | "cert"): X509Certificate[] | TlsFileProblem => {
    const blocks = files[key]!.match(PEM_CERTIFICATE) ?? [];
    try {
      if (blocks.length) return blocks.map((block) => new X509Certificate(block));
    } catch { /* reported below, without the parser's text */ }
    return { key, text: `file "${tls[key]}" holds no valid PEM certificate` };
  };
  if (files.ca !== undefined) {
    const ca = certificates("ca");
    if (!Array.isArray(ca)) return ca;
  }
  if (files.cert === undefined || files.key === undefined) return undefined;
  const cert = certificates("cert");
  if (!Array.isArray(cert)) return cert;
  let key: KeyObject;
  try {
    key = createPrivateKey(files.key.match(PEM_PRIVATE_KEY)?.[0] ?? files.key);
  } catch {
    return { key: "key", text: `file "${tls.key}" holds no valid, unencrypted PEM private key` };
  }
  if (!cert[0]!.checkPrivateKey(key)) {
    return { key: "key", text: `file "${tls.key}" is not the key of the certificate in "${tls.cert}"` };
  }
  return undefined;
}

/**
 * Node/OpenSSL verification codes of a certificate no configured CA vouches for. Deno's node:tls
 * gives them to an expired certificate, or one not yet valid, as well (UNABLE_TO_VERIFY_LEAF_SIGNATURE
 * through stunnel, SELF_SIGNED_CERT_IN_CHAIN from MariaDB, which sends its CA along): the reason
 * names every cause they may stand for.
 */
const UNTRUSTED = new Set([
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
 * A one-line reason for a TLS failure (`certificate not trusted: …`,
 * `hostname does not match …`) followed by the driver's own
 * message, or undefined when `error` is no certificate failure.
 */
export function describeTlsError(error: unknown): string | undefined {
  return describeTlsCode(error) ?? describeTlsCode((error as Error | null)?.cause);
}

function describeTlsCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  const message = (error as Error).message ?? "";
  const reason = UNTRUSTED.has(code)
    ? "TLS certificate not trusted: unknown CA, or expired, or not yet valid (check tls.ca and the server " +
      "certificate's dates)"
    : REASONS[code];
  return reason === undefined ? undefined : `${reason}: ${message.split("\n")[0]} (${code})`;
}
