/**
 * Server-rendered HTML of the observer. Every value from the store goes
 * through {@link esc}; pages carry no script (the list refreshes itself with
 * a meta refresh), and the server forbids scripts by CSP as a second guard.
 *
 * @module
 */
import type { LogRecord, RecordFilter } from "./source.ts";
import { type TreeNode, treeStart } from "./tree.ts";

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

function input(name: string, label: string, value: string | undefined, type = "text"): string {
  return `<label>${esc(label)}<input type="${type}" name="${name}" value="${esc(value)}"></label>`;
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
${input("since", "Since (UTC)", filter.since, "datetime-local")}
${input("until", "Until (UTC)", filter.until, "datetime-local")}
${paused ? '<input type="hidden" name="refresh" value="0">' : ""}
<button type="submit">Filter</button> <a href="/">Clear</a></form>`;
}

function what(r: LogRecord): string {
  if (r.kind === "request") return `${r.op ?? "?"}.${r.template ?? "?"}`;
  return `${r.kind} ${r.action ?? ""}`;
}

function chainLink(event: string, text = event): string {
  return `<a class="mono" href="/chain${query({ id: event })}">${esc(text)}</a>`;
}

/** Options of {@link eventsPage}. */
export interface EventsPageOptions {
  records: LogRecord[];
  filter: RecordFilter;
  pageSize: number;
  refreshSeconds: number;
  /** Refresh switched off by the reader. */
  paused: boolean;
}

/** The list of recent events with filters and paging. */
export function eventsPage(options: EventsPageOptions): string {
  const { records, filter } = options;
  const rows = records.map((r) =>
    `<tr class="lvl-${esc(r.level)}"><td class="mono">${esc(r.at)}</td><td class="lvl">${esc(r.level)}</td>
<td>${esc(what(r))}</td><td>${esc(r.node)}${
      r.broker ? `<br><span class="muted">${esc(r.broker)}</span>` : ""
    }</td>
<td class="${r.code ? "err" : ""}">${esc(r.code ?? (r.kind === "request" ? "ok" : ""))}</td>
<td class="num">${esc(r.ms ?? "")}</td><td class="num">${esc(r.rows ?? "")}</td>
<td>${chainLink(r.event)}</td><td>${esc(r.message ?? "")}</td></tr>`
  ).join("\n");
  // A page holds `pageSize` stored records; the parts folded into one are shown as records of their
  // own with its id, so the page is full when it shows that many ids, however many rows.
  const ids = new Set(records.map((r) => r.id));
  const last = records[records.length - 1];
  const base = { ...filter, before: undefined, refresh: options.paused ? "0" : undefined };
  const more = ids.size >= options.pageSize && last
    ? `<a id="older" href="/${query({ ...base, before: last.id })}">Older →</a>`
    : "";
  const live = !filter.before && !options.paused && options.refreshSeconds > 0;
  const toggle = filter.before
    ? `<a href="/${query({ ...base })}">Newest</a>`
    : options.refreshSeconds <= 0
    ? ""
    : live
    ? `refreshing every ${options.refreshSeconds} s · <a href="/${
      query({ ...filter, refresh: "0" })
    }">pause</a>`
    : `<a href="/${query({ ...filter, refresh: undefined })}">resume refresh</a>`;
  const body = `${filterForm(filter, options.paused)}
<p class="muted">${records.length} events, latest stored first${toggle ? ` · ${toggle}` : ""}</p>
<table id="events"><thead><tr><th>At (UTC)</th><th>Level</th><th>What</th><th>Node</th><th>Status</th>
<th>ms</th><th>Rows</th><th>Event (chain)</th><th>Message</th></tr></thead>
<tbody>${rows || '<tr><td colspan="9" class="muted">No events match.</td></tr>'}</tbody></table>
<p class="pager">${more}</p>`;
  return layout({ title: "Events", body, refreshSeconds: live ? options.refreshSeconds : undefined });
}

function treeItem(node: TreeNode, origin: string | undefined, parent?: string): string {
  const r = node.record;
  const label = parent && node.event.startsWith(`${parent}.`) ? node.event.slice(parent.length) : node.event;
  let card: string;
  if (!r) {
    card = `<span class="card"><span class="mono">${
      esc(label)
    }</span> <span class="muted">(not recorded)</span></span>`;
  } else {
    const offset = origin ? Date.parse(r.at) - Date.parse(origin) : NaN;
    const parts = [
      `<span class="mono" title="${esc(node.event)}">${esc(label)}</span>`,
      `<strong>${esc(what(r))}</strong>`,
      Number.isFinite(offset) ? `+${offset} ms` : "",
      r.ms !== null ? `took ${esc(r.ms)} ms` : "",
      r.rows !== null && r.kind === "request" ? `${esc(r.rows)} rows` : "",
      `<span class="muted">${esc(r.node)}${r.broker ? `/${esc(r.broker)}` : ""}</span>`,
      r.attempt && r.attempt > 1 ? `attempt ${esc(r.attempt)}` : "",
      r.action && r.action !== "reply" ? `<em>${esc(r.action)}</em>` : "",
      r.code ? `<span class="err">${esc(r.code)}</span>: ${esc(r.message ?? "")}` : "",
    ].filter(Boolean);
    card = `<span class="card${r.code ? " err" : ""}">${parts.join(" · ")}</span>`;
  }
  const children = node.children.length
    ? `<ul class="tree">${node.children.map((c) => treeItem(c, origin, node.event)).join("")}</ul>`
    : "";
  return `<li class="node${r?.code ? " err" : ""}" data-event="${esc(node.event)}">${card}${children}</li>`;
}

/** One chain as a tree. */
export function chainPage(id: string, roots: readonly TreeNode[]): string {
  const origin = treeStart(roots);
  const body = roots.length
    ? `<h2>Chain of <span class="mono">${esc(id)}</span></h2>
<ul class="tree top" id="chain">${roots.map((r) => treeItem(r, origin)).join("")}</ul>`
    : `<h2>Chain of <span class="mono">${esc(id)}</span></h2><p class="muted">No records for this chain.</p>`;
  return layout({ title: `Chain ${id}`, body });
}

/** IPL records, newest first, each with its steps. */
export function iplPage(records: readonly LogRecord[]): string {
  const sections = records.map((r) => {
    const steps = Array.isArray(r.doc.steps) ? r.doc.steps as Array<Record<string, unknown>> : [];
    const rows = steps.map((s) =>
      `<tr class="${s.outcome === "failed" ? "lvl-error" : s.outcome === "warn" ? "lvl-warn" : ""}">
<td>${esc(s.step)}</td><td class="lvl">${esc(s.outcome)}</td><td class="num">${esc(s.ms)}</td>
<td>${esc(s.detail ?? "")}${s.error ? `<span class="err">${esc(s.error)}</span>` : ""}${
        Array.isArray(s.warnings)
          ? s.warnings.map((w) => `<br><span class="muted">${esc(w)}</span>`).join("")
          : ""
      }</td></tr>`
    ).join("");
    return `<section class="ipl"><h3>${esc(r.node)} <span class="muted">${esc(r.doc.role)} · ${
      esc(r.doc.env)
    } · ${esc(r.at)}</span> <span class="${r.action === "ok" ? "" : "err"}">${esc(r.action)}</span> in ${
      esc(r.ms)
    } ms</h3>
<p class="muted">config digest <code>${esc(r.doc.configDigest)}</code> · event ${chainLink(r.event)}</p>
<table><thead><tr><th>Step</th><th>Outcome</th><th>ms</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
  }).join("\n");
  return layout({ title: "IPL records", body: sections || '<p class="muted">No IPL records.</p>' });
}

/** An error page. */
export function errorPage(title: string, message: string): string {
  return layout({ title, body: `<h2>${esc(title)}</h2><p class="err">${esc(message)}</p>` });
}
