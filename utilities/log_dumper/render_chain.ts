/**
 * The chain page: one transaction as a tree of its records, rendered like
 * every page (render.ts: values escaped, no script).
 *
 * @module
 */
import { count, esc, layout, what } from "./render.ts";
import { type TreeNode, treeStart } from "./tree.ts";
import { CHAIN_LIMIT } from "./unfold.ts";

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
      r.moreParts ? `<span class="muted more">${count(r.moreParts)} more parts not shown</span>` : "",
    ].filter(Boolean);
    card = `<span class="card${r.code ? " err" : ""}">${parts.join(" · ")}</span>`;
  }
  const children = node.children.length
    ? `<ul class="tree">${node.children.map((c) => treeItem(c, origin, node.event)).join("")}</ul>`
    : "";
  return `<li class="node${r?.code ? " err" : ""}" data-event="${esc(node.event)}">${card}${children}</li>`;
}

/** One chain as a tree; `cut` when the chain has more records than {@link CHAIN_LIMIT}. */
export function chainPage(id: string, roots: readonly TreeNode[], cut = false): string {
  const origin = treeStart(roots);
  const title = `<h2>Chain of <span class="mono">${esc(id)}</span></h2>`;
  const note = cut
    ? `<p class="err" id="cut">This chain has more than ${count(CHAIN_LIMIT)} records: showing the oldest ${
      count(CHAIN_LIMIT)
    } and the requested event.</p>`
    : "";
  const body = roots.length
    ? `${title}${note}
<ul class="tree top" id="chain">${roots.map((r) => treeItem(r, origin)).join("")}</ul>`
    : `${title}<p class="muted">No records for this chain.</p>`;
  return layout({ title: `Chain ${id}`, body });
}
