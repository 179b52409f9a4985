/**
 * What the gateway takes from an HTTP request before anything is sent: the
 * path (only once `Host` is known to be a host), a body that comes in time
 * and within its limit, as a JSON object without the keys the gateway sets,
 * and nothing a web page can send. Each refusal is an {@link HttpError}
 * (or a BedsError with the code's own status).
 *
 * @module
 */
import { BedsError, type ErrorCode } from "../errors.ts";
import { bodyError, parseRequestText } from "../protocol/request.ts";
import { hostWellFormed } from "./host_check.ts";

/** Body keys the gateway sets itself. */
const FROM_GATEWAY = ["template", "op", "deadline_ms"] as const;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Answered with a status of its own, not the one its code maps to. */
export class HttpError extends BedsError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(code, message, { cause });
    this.status = status;
    this.headers = headers;
  }
}

/**
 * The body, up to `limit` bytes, if it has all come within `timeoutMs`: a client that trickles its
 * body must not hold a handler and its buffers for as long as it likes.
 */
export async function readBody(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const tooLarge = (size: number) =>
    new BedsError("TOO_LARGE", `Request body of ${size} bytes exceeds the limit of ${limit}`, {
      details: { limit, size },
    });
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(declared);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  let late = false;
  // A cancelled stream ends a pending read as if the body were complete: `late` tells them apart.
  const timer = setTimeout(() => {
    late = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        // The client went away mid-body: its fault, not the gateway's, so no 5xx and no error log.
        throw new HttpError(400, "BAD_REQUEST", "Request body broken off before its end", {}, error);
      }
      const { done, value } = chunk;
      if (late) throw new HttpError(408, "BAD_REQUEST", `Request body not received within ${timeoutMs} ms`);
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw tooLarge(size);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** `application/json`, with parameters (`; charset=utf-8`) or not, in any case. */
const JSON_TYPE = /^application\/json\s*(?:;.*)?$/i;

/**
 * Refuses what a web page can send. The gateway serves no pages and sends no CORS headers, so a
 * request with an `Origin` (which browsers add to every POST, same-origin too, and so to a page
 * reached by DNS rebinding) is never a legitimate client. And a body of any type but JSON is what a
 * page can POST cross-site without a preflight (`text/plain`, forms), run before any answer is read.
 */
export function refuseBrowsers(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin !== null) {
    const shown = origin.slice(0, 100);
    throw new HttpError(403, "FORBIDDEN", `Requests from web pages are not allowed: Origin "${shown}"`);
  }
  const type = request.headers.get("content-type");
  if (type === null || !JSON_TYPE.test(type.trim())) {
    const what = type === null ? "Content-Type missing" : `Content-Type "${type.slice(0, 100)}" not allowed`;
    throw new HttpError(415, "BAD_REQUEST", `${what}: send the body as application/json`);
  }
}

/**
 * The body as a JSON object. A number in a field value that a double would change (1e400,
 * 9007199254740993) stays its literal, which the request sent on carries as it came: the node checks
 * the client's number, not the double the gateway would have made of it.
 */
export function parseBody(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength === 0) return {};
  let parsed: unknown;
  try {
    parsed = parseRequestText(decoder.decode(bytes));
  } catch (error) {
    throw new BedsError("BAD_REQUEST", bodyError(error), { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BedsError("BAD_REQUEST", "Request body must be a JSON object");
  }
  for (const key of FROM_GATEWAY) {
    if (Object.hasOwn(parsed, key)) {
      throw new BedsError("BAD_REQUEST", `Body key "${key}" is not allowed: the gateway sets it`);
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * The request's path, once its `Host` is known to be a host: Deno builds `request.url` from `Host`
 * and the path, so `Host: x/v1/prd/delete?` would route any path to that op.
 */
export function pathOf(request: Request): string {
  const host = request.headers.get("host");
  if (hostWellFormed(host)) {
    try {
      return new URL(request.url).pathname;
    } catch {
      // Not a URL after all: refused below, as a Host that is not well formed.
    }
  }
  throw new HttpError(400, "BAD_REQUEST", `Host header "${String(host).slice(0, 100)}" is not a host name`);
}
