/**
 * The observer's HTTP side: GET-only routes over a {@link LogSource}.
 * `/` events with filters and paging, `/chain?id=` one chain as a tree,
 * `/ipl` IPL records. A `Host` that is not an IP literal, `localhost` or
 * an allowed name is answered 421 (host_check.ts: DNS rebinding).
 *
 * @module
 */
import { misdirected } from "./host_check.ts";
import { chainPage, errorPage, eventsPage, iplPage } from "./render.ts";
import type { LogSource, RecordFilter } from "./source.ts";
import { buildTree } from "./tree.ts";

/** Options for {@link createHandler}. */
export interface HandlerOptions {
  source: LogSource;
  pageSize: number;
  refreshSeconds: number;
  /** Names `Host` may carry besides IP literals and `localhost`: the bind host, `allowed_hosts`. @default [] */
  hosts?: readonly string[];
}

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  // No script may run, whatever a record contains; no framing, forms post only here.
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const ID = /^[A-Za-z0-9_.-]{1,600}$/;

function html(body: string, status = 200): Response {
  return new Response(body, { status, headers: HEADERS });
}

/** The filter named by a query string; unknown or oversized values are ignored. */
export function filterFrom(params: URLSearchParams): RecordFilter {
  const get = (name: string, allowed?: string[]) => {
    const value = params.get(name)?.trim();
    if (!value || value.length > 128) return undefined;
    return allowed && !allowed.includes(value) ? undefined : value;
  };
  const before = Number(params.get("before"));
  return {
    node: get("node"),
    level: get("level", ["info", "warn", "error"]),
    kind: get("kind", ["request", "ipl", "status"]),
    template: get("template"),
    code: get("code"),
    status: get("status", ["ok", "error"]),
    since: get("since"),
    until: get("until"),
    before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
  };
}

/** Builds the request handler. */
export function createHandler(options: HandlerOptions): (request: Request) => Promise<Response> {
  const { source } = options;
  return async (request) => {
    const refused = misdirected(request, options.hosts);
    if (refused) return refused;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("read-only\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const url = new URL(request.url);
    try {
      switch (url.pathname) {
        case "/": {
          const filter = filterFrom(url.searchParams);
          const records = await source.recent(filter, options.pageSize);
          return html(eventsPage({
            records,
            filter,
            pageSize: options.pageSize,
            refreshSeconds: options.refreshSeconds,
            paused: url.searchParams.get("refresh") === "0",
          }));
        }
        case "/chain": {
          const id = url.searchParams.get("id") ?? "";
          if (!ID.test(id)) return html(errorPage("Bad event id", `Not an event id: ${id}`), 400);
          return html(chainPage(id, buildTree(await source.chain(id))));
        }
        case "/ipl":
          return html(iplPage(await source.recent({ kind: "ipl" }, 20)));
        case "/favicon.ico":
          return new Response(null, { status: 204 });
        default:
          return html(errorPage("Not found", url.pathname), 404);
      }
    } catch (error) {
      return html(errorPage("Log store unavailable", reasonOf(error)), 503);
    }
  };
}

/** What went wrong, first lines only: a pool's timeout names its last connection error as its cause. */
function reasonOf(error: unknown): string {
  const text = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0] ?? "";
  const cause = (error as Error)?.cause;
  return cause === undefined ? text(error) : `${text(error)}: ${text(cause)}`;
}
