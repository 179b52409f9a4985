/**
 * The observer's HTTP side: GET-only routes over a {@link LogSource}.
 * `/` events with filters and paging, `/chain?id=` one chain as a tree,
 * `/ipl` IPL records. A `Host` that is not an IP literal, `localhost` or
 * an allowed name is answered 421 (host_check.ts: DNS rebinding).
 *
 * @module
 */
import { misdirected } from "./host_check.ts";
import { errorPage, eventsPage, type IgnoredValue, iplPage, isLive } from "./render.ts";
import { chainPage } from "./render_chain.ts";
import { filterTime, type RecordFilter, StoreError } from "./source.ts";
import { buildTree } from "./tree.ts";
import { capRows, type LogReader } from "./unfold.ts";

/** Options for {@link createHandler}. */
export interface HandlerOptions {
  source: LogReader;
  pageSize: number;
  refreshSeconds: number;
  /** Names `Host` may carry besides IP literals and `localhost`: the bind host, `allowed_hosts`. @default [] */
  hosts?: readonly string[];
  /** Where a page that failed by the observer's own fault is reported. @default console.error */
  log?: (line: string) => void;
}

/** IPL records per page. */
export const IPL_PAGE = 20;

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

/** A query string's filter and the values of it that were left out because they are not valid. */
export interface ParsedFilter {
  filter: RecordFilter;
  ignored: IgnoredValue[];
}

/** The filter named by a query string; unknown or oversized values are ignored, bad times reported. */
export function filterFrom(params: URLSearchParams): ParsedFilter {
  const ignored: IgnoredValue[] = [];
  const get = (name: string, allowed?: string[]) => {
    const value = params.get(name)?.trim();
    if (!value || value.length > 128) return undefined;
    return allowed && !allowed.includes(value) ? undefined : value;
  };
  // A time the stores cannot compare (no ISO time, a year outside 1000–9999) is left out, and said so.
  const time = (name: string) => {
    const value = get(name);
    if (value === undefined || filterTime(value) !== undefined) return value;
    ignored.push({ field: name, value });
    return undefined;
  };
  const before = Number(params.get("before"));
  const filter = {
    node: get("node"),
    level: get("level", ["info", "warn", "error"]),
    kind: get("kind", ["request", "ipl", "status"]),
    template: get("template"),
    code: get("code"),
    status: get("status", ["ok", "error"]),
    since: time("since"),
    until: time("until"),
    before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
  };
  return { filter, ignored };
}

/** Builds the request handler. */
export function createHandler(options: HandlerOptions): (request: Request) => Promise<Response> {
  const { source } = options;
  const log = options.log ?? ((line: string) => console.error(line));

  const page = async (url: URL, signal: AbortSignal): Promise<Response> => {
    switch (url.pathname) {
      case "/": {
        const { filter, ignored } = filterFrom(url.searchParams);
        const { rows, cut } = capRows(await source.recent(filter, options.pageSize, signal));
        return html(eventsPage({
          records: rows,
          filter,
          pageSize: options.pageSize,
          refreshSeconds: options.refreshSeconds,
          paused: url.searchParams.get("refresh") === "0",
          cut,
          ignored,
        }));
      }
      case "/chain": {
        const id = url.searchParams.get("id") ?? "";
        if (!ID.test(id)) return html(errorPage("Bad event id", `Not an event id: ${id}`), 400);
        const chain = await source.chain(id, signal);
        return html(chainPage(id, buildTree(chain.records), chain.cut));
      }
      case "/ipl": {
        const { before } = filterFrom(url.searchParams).filter;
        const records = await source.recent({ kind: "ipl", before }, IPL_PAGE, signal);
        return html(iplPage(records, { pageSize: IPL_PAGE, before }));
      }
      case "/favicon.ico":
        return new Response(null, { status: 204 });
      default:
        return html(errorPage("Not found", url.pathname), 404);
    }
  };

  return async (request) => {
    const refused = misdirected(request, options.hosts);
    if (refused) return refused;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("read-only\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const url = new URL(request.url);
    // A reader that goes away stops its read. Listened to only while the page is made: without
    // --unstable-no-legacy-abort (which `deno task observer` sets) Deno also aborts a request's
    // signal once its response is sent, and warns of that once.
    const reading = new AbortController();
    const abort = () => reading.abort(request.signal.reason);
    request.signal.addEventListener("abort", abort, { once: true });
    try {
      return await page(url, reading.signal);
    } catch (error) {
      if (error instanceof StoreError) {
        // A live list comes back by itself once the store answers again.
        const { filter } = filterFrom(url.searchParams);
        const live = url.pathname === "/" &&
          isLive(filter, url.searchParams.get("refresh") === "0", options.refreshSeconds);
        return html(
          errorPage(
            "Log store unavailable",
            reasonOf(error.cause),
            live ? options.refreshSeconds : undefined,
          ),
          503,
        );
      }
      log(`observer: ${url.pathname} failed: ${(error as Error)?.stack ?? error}`);
      return html(errorPage("Observer error", `This page could not be shown: ${reasonOf(error)}`), 500);
    } finally {
      request.signal.removeEventListener("abort", abort);
    }
  };
}

/** What went wrong, first lines only: a pool's timeout names its last connection error as its cause. */
function reasonOf(error: unknown): string {
  const text = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0] ?? "";
  const cause = (error as Error)?.cause;
  return cause === undefined ? text(error) : `${text(error)}: ${text(cause)}`;
}
