/**
 * `newestFirst()`: a tail's records with each fan-out's folded parts where records of their own
 * would be (newest first: the last part, …, the first, the parent), on a store with insertion ids
 * (MariaDB, the admin role's) and on one without (MongoDB).
 */
import assert from "node:assert/strict";
import { newestFirst } from "../../src/cli/logs.ts";
import { storedRecords } from "../../src/logstore/mod.ts";

const AT = "2025-01-02 03:04:05.678";

/** A stored row as a store answers it, `id` left out where undefined. */
function row(event: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event, kind: "request", level: "info", at: AT, node: "n", doc: "{}", ...extra };
}

const folded = JSON.stringify({
  parts: [["1", "prd", "read", null, 1, 1], ["2", "cus", "read", null, 1, 1]],
});

Deno.test("newestFirst() puts a record's folded parts before it, the last part first", async (t) => {
  await t.step("by insertion id", () => {
    const rows = [row("q", { id: 3 }), row("p", { id: 2, doc: folded }), row("o", { id: 1 })];
    assert.deepEqual(newestFirst(storedRecords(rows)).map((r) => r.event), ["q", "p.2", "p.1", "p", "o"]);
  });
  await t.step("without ids (MongoDB): by parent and time", () => {
    const rows = [row("q"), row("p", { doc: folded }), row("o")];
    assert.deepEqual(newestFirst(storedRecords(rows)).map((r) => r.event), ["q", "p.2", "p.1", "p", "o"]);
  });
  await t.step("records of their own keep the store's order", () => {
    const rows = [
      row("p.2", { id: 4, parent: "p" }),
      row("p.1", { id: 3, parent: "p" }),
      row("p", { id: 2 }),
    ];
    assert.deepEqual(newestFirst(storedRecords(rows)).map((r) => r.event), ["p.2", "p.1", "p"]);
    // A record stored apart after its parent, at the same time, is no folded part of it.
    const after = [row("p", { id: 2 }), row("p.1", { id: 1, parent: "p" })];
    assert.deepEqual(newestFirst(storedRecords(after)).map((r) => r.event), ["p", "p.1"]);
  });
  await t.step("nothing", () => assert.deepEqual(newestFirst([]), []));
});
