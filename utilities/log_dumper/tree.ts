/**
 * The records of one chain as a tree: each record under the longest id it
 * extends (`<parent>.<suffix>`), a placeholder for the id it extends when
 * nobody recorded that one.
 *
 * @module
 */
import type { LogRecord } from "./source.ts";

/** One node of the tree; `record` is absent for an id with no record of its own. */
export interface TreeNode {
  event: string;
  record?: LogRecord;
  children: TreeNode[];
}

function parentOf(event: string): string | undefined {
  const dot = event.lastIndexOf(".");
  return dot < 0 ? undefined : event.slice(0, dot);
}

/** Ids in order with their numbers read as numbers: a fan-out's part `.2` before `.10`. */
const BY_NUMBER = new Intl.Collator("en", { numeric: true });

const startOf = (node: TreeNode): string => node.record?.at ?? node.children.map(startOf).sort()[0] ?? "";

/** Builds the tree, children oldest first. */
export function buildTree(records: readonly LogRecord[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const record of records) {
    if (!nodes.has(record.event)) nodes.set(record.event, { event: record.event, record, children: [] });
  }
  // The id a record extends becomes a placeholder when nobody recorded it; the ids above it do not
  // (a client's parent may have dozens of words): at most one placeholder per record.
  for (const event of [...nodes.keys()]) {
    const up = parentOf(event);
    if (up !== undefined && !nodes.has(up)) nodes.set(up, { event: up, children: [] });
  }
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    let up = parentOf(node.event);
    while (up !== undefined && !nodes.has(up)) up = parentOf(up);
    (up !== undefined ? nodes.get(up)!.children : roots).push(node);
  }
  const sort = (list: TreeNode[]) => {
    list.sort((a, b) => startOf(a).localeCompare(startOf(b)) || BY_NUMBER.compare(a.event, b.event));
    for (const node of list) sort(node.children);
    return list;
  };
  return sort(roots);
}

/** The earliest time in a tree (the origin of the offsets shown). */
export function treeStart(roots: readonly TreeNode[]): string | undefined {
  return roots.map(startOf).filter(Boolean).sort()[0];
}
