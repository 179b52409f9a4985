/**
 * Secret-free views of the configuration for logs, reports and digests.
 *
 * @module
 */

const SECRET_KEY = /^(pass|password|secret|token|key)$/i;
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i;
/**
 * A URL's query and fragment. Their parameters are the driver's options, and some are secrets under
 * names no list would keep up with (`tlsCertificateKeyFilePassword`, a token inside
 * `authMechanismProperties`): the whole query goes.
 */
const URL_QUERY = /^([a-z][a-z0-9+.-]*:\/\/[^?#]*)[?#][\s\S]*$/i;

/**
 * Returns a deep copy of `value` with every secret replaced by "***": values of secret keys, and in a
 * URL its user and password and its whole query.
 */
export function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (SECRET_KEY.test(key) && value !== "") return "***";
    return value.replace(URL_CREDENTIALS, (_m, scheme) => `${scheme}***@`).replace(URL_QUERY, "$1?***");
  }
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redact(v, k)]),
    );
  }
  return value;
}
