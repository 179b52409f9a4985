/**
 * Secret-free views of the configuration for logs, reports and digests.
 *
 * @module
 */

const SECRET_KEY = /^(pass|password|secret|token|key)$/i;
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i;

/** Returns a deep copy of `value` with every secret replaced by "***". */
export function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (SECRET_KEY.test(key) && value !== "") return "***";
    return value.replace(URL_CREDENTIALS, (_m, scheme) => `${scheme}***@`);
  }
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redact(v, k)]),
    );
  }
  return value;
}
