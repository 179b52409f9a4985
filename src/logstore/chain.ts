/**
 * Pure chain handling: the records of one chain as a tree (children under
 * the id they extend, oldest first) and its text rendering for the CLI.
 *
 * @module
 */
import { parentId } from "../protocol/mod.ts";
import type { StoredEvent } from "./rows.ts";

/** One node of a chain tree; `record` is absent for an id nobody recorded (e.g. a client's own parent id). */
export interface ChainNode {
  event: string;
  record?: StoredEvent;
  children: ChainNode[];
}

/** Ids in order with their numbers read as numbers: a fan-out's part `.2` before `.10`. */
const BY_NUMBER = new Intl.Collator("en", { numeric: true });

const startOf = (node: ChainNode): string => node.record?.at ?? node.children.map(startOf).sort()[0] ?? "";

/**
 * Builds the tree of a chain's records. A record hangs under the longest
 * prefix id of it that is in the chain (so a missing middle link is bridged
 * by a placeholder node for the id it extends, itself under the longest
 * prefix of its own that is there).
 */
export function buildChainTree(records: readonly StoredEvent[]): ChainNode[] {
  const nodes = new Map<string, ChainNode>();
  for (const record of records) {
    const existing = nodes.get(record.event);
    if (existing) existing.record ??= record;
    else nodes.set(record.event, { event: record.event, record, children: [] });
  }
  // The id a record extends becomes a placeholder when nobody recorded it; the ids above it do not
  // (a client's parent may have dozens of words): at most one placeholder per record.
  for (const event of [...nodes.keys()]) {
    const up = parentId(event);
    if (up !== undefined && !nodes.has(up)) nodes.set(up, { event: up, children: [] });
  }
  const roots: ChainNode[] = [];
  for (const node of nodes.values()) {
    let up = parentId(node.event);
    while (up !== undefined && !nodes.has(up)) up = parentId(up);
    if (up !== undefined) nodes.get(up)!.children.push(node);
    else roots.push(node);
  }
  // A placeholder with a single child adds nothing to the picture: fold it away.
  const fold = (node: ChainNode): ChainNode =>
    !node.record && node.children.length === 1 && node.children[0]!.record ? fold(node.children[0]!) : node;
  const sort = (list: ChainNode[]): ChainNode[] => {
    list.sort((a, b) =>
      startOf(a) < startOf(b) ? -1 : startOf(a) > startOf(b) ? 1 : BY_NUMBER.compare(a.event, b.event)
    );
    for (const node of list) node.children = sort(node.children);
    return list;
  };
  return sort(roots.map(fold));
}

/** The suffix of `event` below `parent` (`.r2`, `.3`, or the whole id at the top). */
function label(event: string, parent?: string): string {
  return parent && event.startsWith(`${parent}.`) ? event.slice(parent.length) : event;
}

/** One record's summary: what ran, how long, and how it ended. */
export function describeRecord(record: StoredEvent, origin?: string): string {
  const parts: string[] = [];
  if (origin && record.at) {
    const offset = Date.parse(record.at) - Date.parse(origin);
    if (Number.isFinite(offset)) parts.push(`+${offset}ms`);
  }
  if (record.kind === "request") {
    parts.push(`${record.op ?? "?"}.${record.template ?? "?"}`);
    if (record.broker) parts.push(`on ${record.node}/${record.broker}`);
    if (record.attempt && record.attempt > 1) parts.push(`attempt ${record.attempt}`);
  } else {
    parts.push(`${record.kind} ${record.action ?? ""}`.trim(), `on ${record.node}`);
  }
  if (record.ms !== null) parts.push(`${record.ms} ms`);
  if (record.rows !== null && record.kind === "request") parts.push(`${record.rows} rows`);
  if (record.code) parts.push(`ERROR ${record.code}: ${record.message ?? ""}`.trim());
  else if (record.message && record.kind !== "request") parts.push(record.message);
  if (record.action === "retry" || record.action === "dead_letter") parts.push(`→ ${record.action}`);
  return parts.join("  ");
}

/**
 * Renders a chain tree as lines drawn with box characters, each record with its offset from the
 * chain's start: `├─` for a child with siblings after it and `│` carried down beside its own
 * children, so that a glance tells which records hang under which.
 */
export function renderChainTree(roots: readonly ChainNode[]): string[] {
  const origin = roots.map(startOf).filter(Boolean).sort()[0];
  const lines: string[] = [];
  const walk = (node: ChainNode, indent: string, branch: string, parent?: string) => {
    const what = node.record ? describeRecord(node.record, origin) : "(not recorded)";
    lines.push(`${indent}${branch}${label(node.event, parent)}  ${what}`);
    // Below a child with siblings still to come, its line continues down past its own children.
    const below = indent + (branch === "├─ " ? "│  " : branch === "" ? "" : "   ");
    node.children.forEach((child, i) =>
      walk(child, below, i === node.children.length - 1 ? "└─ " : "├─ ", node.event)
    );
  };
  for (const root of roots) walk(root, "", "");
  return lines;
}

/** One line per record for `beds logs tail`. */
export function formatTailLine(record: StoredEvent): string {
  return `${record.at}  ${record.level.padEnd(5)}  ${record.event}  ${describeRecord(record)}`;
}
