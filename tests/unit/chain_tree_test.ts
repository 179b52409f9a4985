import assert from "node:assert/strict";
import { buildChainTree, fromStoredRow, renderChainTree, type StoredEvent } from "../../src/logstore/mod.ts";

function stored(event: string, at: string): StoredEvent {
  return fromStoredRow({ event, at, kind: "request", level: "info", node: "n", op: "read", template: "prd" });
}

Deno.test("renderChainTree() draws ├─ for every child but the last, and │ past a child's own children", () => {
  const root = "000000001-n-b-0000";
  const lines = renderChainTree(buildChainTree([
    stored(root, "2025-01-02 00:00:00.000"),
    stored(`${root}.1`, "2025-01-02 00:00:00.001"),
    stored(`${root}.1.1`, "2025-01-02 00:00:00.002"),
    stored(`${root}.1.2`, "2025-01-02 00:00:00.003"),
    stored(`${root}.2`, "2025-01-02 00:00:00.004"),
    stored(`${root}.3`, "2025-01-02 00:00:00.005"),
    stored(`${root}.3.1`, "2025-01-02 00:00:00.006"),
  ]));
  assert.deepEqual(lines.map((l) => l.replace(/ {2}\+\d+ms .*$/, "")), [
    root,
    "├─ .1",
    "│  ├─ .1",
    "│  └─ .2",
    "├─ .2",
    "└─ .3",
    "   └─ .1",
  ]);
  assert.match(lines[6]!, /^ {3}└─ \.1 {2}\+6ms {2}read\.prd/);
});
