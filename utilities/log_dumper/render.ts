/**
 * Server-rendered HTML of the observer. Every value from the store goes
 * through {@link esc}; pages carry no script (the list refreshes itself with
 * a meta refresh), and the server forbids scripts by CSP as a second guard.
 *
 * @module
 */
import { filterTime, type LogRecord, type RecordFilter, statusOf } from "./source.ts";
import { PAGE_ROWS } from "./unfold.ts";

/** Escapes text for HTML content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A query string of the non-empty values, escaped for use in an attribute. */
function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text ? `?${esc(text)}` : "";
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;gap:1.5rem;align-items:baseline}
header a{color:#cfe0ff;text-decoration:none}header strong{font-size:1.1rem}
main{padding:1rem}table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,monospace;font-size:12px}
.lvl-error td.lvl,.err{color:#b00020;font-weight:600}.lvl-warn td.lvl{color:#9a6700;font-weight:600}
form#filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
form#filters label{display:flex;flex-direction:column;font-size:12px;color:#555}
ul.tree{list-style:none;padding-left:1.4rem;border-left:2px solid #d5d9e0;margin:.2rem 0}
ul.tree.top{border-left:0;padding-left:0}li.node{margin:.35rem 0}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:.4rem .6rem;display:inline-block}
.card.err{border-color:#b00020;background:#fff5f6}.muted{color:#777}.pager{margin-top:.8rem}
section.ipl{background:#fff;border:1px solid #e3e6eb;border-radius:6px;margin-bottom:1rem;padding:.6rem}
`;

/** Options of {@link layout}. */
export interface LayoutOptions {
  title: string;
  body: string;
  /** Reload the page every n seconds. */
  refreshSeconds?: number;
}

/** The page frame with navigation. */
export function layout(options: LayoutOptions): string {
  const refresh = options.refreshSeconds
    ? `<meta http-equiv="refresh" content="${options.refreshSeconds}">`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
${refresh}<title>${esc(options.title)} · BEDS observer</title><style>${STYLE}</style></head>
<body><header><strong>BEDS observer</strong><a href="/">Events</a><a href="/ipl">IPL records</a>
<span class="muted">read-only</span></header>
<main>${options.body}</main></body></html>`;
}

function input(name: string, label: string, value: string | undefined): string {
  return `<label>${esc(label)}<input type="text" name="${name}" value="${esc(value)}"></label>`;
}

/**
 * A filter time as a `datetime-local` input holds it: the UTC time it names, to the millisecond. The
 * input takes no zone, and one given one (`…Z`, `+02:00`) shows nothing and sends nothing, so the
 * form would drop the time range when it is sent again.
 */
function timeInput(name: string, label: string, value: string | undefined): string {
  const t = filterTime(value);
  const local = t === undefined ? "" : new Date(t).toISOString().slice(0, 23);
  return `<label>${esc(label)}<input type="datetime-local" name="${name}" value="${local}"></label>`;
}

function select(name: string, label: string, value: string | undefined, options: string[]): string {
  const opts = ["", ...options].map((o) =>
    `<option value="${esc(o)}"${o === (value ?? "") ? " selected" : ""}>${esc(o || "any")}</option>`
  ).join("");
  return `<label>${esc(label)}<select name="${name}">${opts}</select></label>`;
}

/** The filter form. */
function filterForm(filter: RecordFilter, paused: boolean): string {
  return `<form id="filters" method="get" action="/">
${input("node", "Node", filter.node)}
${select("level", "Level", filter.level, ["info", "warn", "error"])}
${select("kind", "Kind", filter.kind, ["request", "ipl", "status"])}
${input("template", "Template", filter.template)}
${select("status", "Status", filter.status, ["ok", "error"])}
${input("code", "Code", filter.code)}
${timeInput("since", "Since (UTC)", filter.since)}
${timeInput("until", "Until (UTC)", filter.until)}
${paused ? '<input type="hidden" name="refresh" value="0">' : ""}
<button type="submit">Filter</button> <a href="/">Clear</a></form>`;
}

/** What a record is about: `op.template` of a request, else its kind and action. */
export function what(r: LogRecord): string {
  if (r.kind === "request") return `${r.op ?? "?"}.${r.template ?? "?"}`;
  return `${r.kind} ${r.action ?? ""}`;
}

/** A link to the chain of `event`. */
export function chainLink(event: string, text = event): string {
  return `<a class="mono" href="/chain${query({ id: event })}">${esc(text)}</a>`;
}

/** A filter value that was not used, as the reader typed it. */
export interface IgnoredValue {
  field: string;
  value: string;
}

/** Options of {@link eventsPage}. */
export interface EventsPageOptions {
  records: LogRecord[];
  filter: RecordFilter;
  pageSize: number;
  refreshSeconds: number;
  /** Refresh switched off by the reader. */
  paused: boolean;
  /** The page was cut at {@link PAGE_ROWS} rows: fewer stored records than `pageSize` are shown. */
  cut?: boolean;
  /** Filter values left out because they are not valid. */
  ignored?: readonly IgnoredValue[];
}

/** Whether a filter narrows the list (a page of it may scan the store). */
function filtered(filter: RecordFilter): boolean {
  const { before: _, ...terms } = filter;
  return Object.values(terms).some((v) => v !== undefined && v !== "");
}

/**
 * Whether the events page reloads itself: only the newest, unfiltered page. A filter on a column
 * without an index scans the log on every load, and an open tab would repeat that every few seconds.
 */
export function isLive(filter: RecordFilter, paused: boolean, refreshSeconds: number): boolean {
  return refreshSeconds > 0 && !paused && !filter.before && !filtered(filter);
}

/** A count as text, with thousands separators. */
export const count = (n: number) => n.toLocaleString("en");

function moreParts(r: LogRecord): string {
  return r.moreParts ? `<br><span class="muted more">${count(r.moreParts)} more parts not shown</span>` : "";
}

/** The list of recent events with filters and paging. */
export function eventsPage(options: EventsPageOptions): string {
  const { records, filter } = options;
  const rows = records.map((r) =>
    `<tr class="lvl-${esc(r.level)}"><td class="mono">${esc(r.at)}</td><td class="lvl">${esc(r.level)}</td>
<td>${esc(what(r))}${moreParts(r)}</td><td>${esc(r.node)}${
      r.broker ? `<br><span class="muted">${esc(r.broker)}</span>` : ""
    }</td>
<td class="${statusOf(r) === "error" ? "err" : ""}">${esc(r.code ?? statusOf(r) ?? "")}</td>
<td class="num">${esc(r.ms ?? "")}</td><td class="num">${esc(r.rows ?? "")}</td>
<td>${chainLink(r.event)}</td><td>${esc(r.message ?? "")}</td></tr>`
  ).join("\n");
  // A page holds `pageSize` stored records; the parts folded into one are shown as records of their
  // own with its id, so the page is full when it shows that many ids, however many rows.
  const ids = new Set(records.map((r) => r.id));
  const last = records[records.length - 1];
  const base = { ...filter, before: undefined, refresh: options.paused ? "0" : undefined };
  const more = (ids.size >= options.pageSize || options.cut) && last
    ? `<a id="older" href="/${query({ ...base, before: last.id })}">Older →</a>`
    : "";
  const live = isLive(filter, options.paused, options.refreshSeconds);
  const toggle = filter.before
    ? `<a href="/${query({ ...base })}">Newest</a>`
    : options.refreshSeconds <= 0
    ? ""
    : filtered(filter)
    ? "a filtered list does not refresh itself: reload it"
    : live
    ? `refreshing every ${options.refreshSeconds} s · <a href="/${
      query({ ...filter, refresh: "0" })
    }">pause</a>`
    : `<a href="/${query({ ...filter, refresh: undefined })}">resume refresh</a>`;
  const ignored = (options.ignored ?? []).map((i) =>
    `<p class="err ignored">Ignored ${esc(i.field)} “${
      esc(i.value)
    }”: not a date and time in the years 1000–9999.</p>`
  ).join("\n");
  const cut = options.cut
    ? ` · <span id="cut">cut at ${
      count(PAGE_ROWS)
    } rows: ${ids.size} of up to ${options.pageSize} stored records shown, the rest on the next page</span>`
    : "";
  const body = `${filterForm(filter, options.paused)}${ignored}
<p class="muted">${records.length} events, latest stored first${toggle ? ` · ${toggle}` : ""}${cut}</p>
<table id="events"><thead><tr><th>At (UTC)</th><th>Level</th><th>What</th><th>Node</th><th>Status</th>
<th>ms</th><th>Rows</th><th>Event (chain)</th><th>Message</th></tr></thead>
<tbody>${rows || '<tr><td colspan="9" class="muted">No events match.</td></tr>'}</tbody></table>
<p class="pager">${more}</p>`;
  return layout({ title: "Events", body, refreshSeconds: live ? options.refreshSeconds : undefined });
}

/** An IPL step as stored: an object (anything else is skipped). */
type Step = Record<string, unknown>;

/**
 * Steps shown per IPL record, and warnings per step: an IPL has a few dozen steps and a handful of
 * warnings, and a record with many more (written by something else, or a template set producing a
 * warning per field) would otherwise make one page of any size.
 */
export const IPL_STEP_LIMIT = 200;
export const IPL_WARNING_LIMIT = 50;

function stepsOf(record: LogRecord): Step[] {
  const steps = Array.isArray(record.doc.steps) ? record.doc.steps : [];
  return steps.filter((s): s is Step => s !== null && typeof s === "object" && !Array.isArray(s));
}

/** `shown` of `total` items: a line saying how many more are left out, or nothing. */
function leftOut(total: number, shown: number, what: string): string {
  return total > shown ? `${total - shown} more ${what} not shown` : "";
}

function warningsOf(step: Step): string {
  if (!Array.isArray(step.warnings)) return "";
  const shown = step.warnings.slice(0, IPL_WARNING_LIMIT);
  const more = leftOut(step.warnings.length, shown.length, "warnings");
  return shown.map((w) => `<br><span class="muted">${esc(w)}</span>`).join("") +
    (more ? `<br><span class="muted">${more}</span>` : "");
}

/** Options of {@link iplPage}. */
export interface IplPageOptions {
  /** IPL records per page. */
  pageSize: number;
  /** The page starts before this cursor (not the newest). */
  before?: number;
}

/** IPL records, newest first, each with its steps; `pageSize` at a time, with paging. */
export function iplPage(records: readonly LogRecord[], options: IplPageOptions): string {
  const sections = records.map((r) => {
    const steps = stepsOf(r);
    const more = leftOut(steps.length, IPL_STEP_LIMIT, "steps");
    const rows = steps.slice(0, IPL_STEP_LIMIT).map((s) =>
      `<tr class="${s.outcome === "failed" ? "lvl-error" : s.outcome === "warn" ? "lvl-warn" : ""}">
<td>${esc(s.step)}</td><td class="lvl">${esc(s.outcome)}</td><td class="num">${esc(s.ms)}</td>
<td>${esc(s.detail ?? "")}${s.error ? `<span class="err">${esc(s.error)}</span>` : ""}${
        warningsOf(s)
      }</td></tr>`
    ).join("") + (more ? `<tr><td colspan="4" class="muted">${more}</td></tr>` : "");
    return `<section class="ipl"><h3>${esc(r.node)} <span class="muted">${esc(r.doc.role)} · ${
      esc(r.doc.env)
    } · ${esc(r.at)}</span> <span class="${r.action === "ok" ? "" : "err"}">${esc(r.action)}</span> in ${
      esc(r.ms)
    } ms</h3>
<p class="muted">config digest <code>${esc(r.doc.configDigest)}</code> · event ${chainLink(r.event)}</p>
<table><thead><tr><th>Step</th><th>Outcome</th><th>ms</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
  }).join("\n");
  const last = records[records.length - 1];
  const older = records.length >= options.pageSize && last
    ? ` · <a id="older" href="/ipl${query({ before: last.id })}">Older →</a>`
    : "";
  const newest = options.before ? ` · <a href="/ipl">Newest</a>` : "";
  const summary =
    `<p class="muted" id="ipl-count">${records.length} IPL records, newest first, ${options.pageSize} per page${newest}${older}</p>`;
  return layout({
    title: "IPL records",
    body: `${summary}\n${sections || '<p class="muted">No IPL records.</p>'}`,
  });
}

/** An error page; `refreshSeconds` makes it load again (a live view that should come back by itself). */
export function errorPage(title: string, message: string, refreshSeconds?: number): string {
  const retry = refreshSeconds ? `<p class="muted">Trying again every ${refreshSeconds} s.</p>` : "";
  return layout({
    title,
    body: `<h2>${esc(title)}</h2><p class="err">${esc(message)}</p>${retry}`,
    refreshSeconds,
  });
}
