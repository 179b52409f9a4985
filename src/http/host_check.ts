/**
 * The `Host` check against DNS rebinding: a web page whose name an attacker
 * points at 127.0.0.1 is same-origin with a local listener and may read its
 * answers, but the browser still sends the attacker's name as `Host`. A
 * listener that answers only to IP literals, `localhost` and its own bind
 * host leaves such a page nothing to read.
 *
 * The observer (utilities/log_dumper/host_check.ts) has its own copy: it
 * imports nothing from src/.
 *
 * @module
 */

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^\[[0-9a-f:.]*:[0-9a-f:.]*\]$/;
const NAME = /^[a-z0-9_.-]+$/;
const PORT = /^\d{1,5}$/;

/** The lower-case hostname of a `Host` header (`[::1]` keeps its brackets), or undefined when malformed. */
function hostnameOf(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const close = value.startsWith("[") ? value.indexOf("]") + 1 : 0;
  const colon = value.indexOf(":", close);
  const hostname = colon < 0 ? value : value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (colon >= 0 && (!PORT.test(port) || Number(port) > 65535)) return undefined;
  return IPV6.test(hostname) || NAME.test(hostname) ? hostname : undefined;
}

/**
 * Whether a `Host` header names a host and port a URL can be built from (or there is none). A
 * request's URL is its `Host` and its path: a `/`, `?` or `\` in `Host` would replace the path.
 */
export function hostWellFormed(header: string | null): boolean {
  return header === null || hostnameOf(header) !== undefined;
}

/** A bind host or allowed name as a `Host` header names it: lower case, IPv6 in brackets. */
function asHostname(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
}

/**
 * Whether a request with this `Host` header may be answered: no header (no browser omits it), an IP
 * literal, `localhost`, or one of `names` (the bind host, names an operator allowed).
 */
export function hostAllowed(header: string | null, names: readonly string[] = []): boolean {
  if (header === null) return true;
  const hostname = hostnameOf(header);
  if (hostname === undefined) return false;
  if (hostname === "localhost" || IPV4.test(hostname) || IPV6.test(hostname)) return true;
  return names.some((name) => asHostname(name) === hostname);
}

/**
 * The answer to a request whose `Host` is not allowed (421 Misdirected Request, plain text), or
 * undefined when it is.
 */
export function misdirected(request: Request, names: readonly string[] = []): Response | undefined {
  const header = request.headers.get("host");
  if (hostAllowed(header, names)) return undefined;
  return new Response(
    `Misdirected request: host "${String(header).slice(0, 100)}" is not one this listener answers to\n`,
    {
      status: 421,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      },
    },
  );
}
