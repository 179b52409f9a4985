/**
 * What `dispatch()` itself costs, with the database answered in memory: the
 * checks, the SQL text, the fan-out's concurrency slots and promise chains,
 * but no driver, socket or AMQP. Prints µs per `dsh` fan-out (24 parts) and
 * per `cus` read by key, three times.
 *
 * Usage: `deno run -A lab/bench/dispatch_micro.ts [--templates templates]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dispatch, type DispatchDeps } from "../../src/dispatch/mod.ts";
import type { Adapter } from "../../src/adapters/mod.ts";
import { operations } from "../../src/adapters/mariadb/operations.ts";
import type { Op } from "../../src/config/mod.ts";
import type { Request } from "../../src/protocol/mod.ts";
import { createRegistry, loadTemplates } from "../../src/templates/mod.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { templates: { type: "string", default: "templates" } },
  });
  const registry = createRegistry(await loadTemplates(values.templates));
  const row = { id: 1, sku: "SKU-1", name: "Product", price: "9.99", stock: 3, created_at: new Date() };
  // A function's SELECT answers one `value`; everything else one row.
  const answer = (st: { sql: string }) => Promise.resolve(st.sql.includes("`fn_") ? [{ value: 1 }] : [row]);
  const adapter: Adapter = {
    store: "mariadb",
    ...operations((database) => database, answer, answer),
    transaction: () => Promise.reject(new Error("no transactions here")),
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
  const deps: DispatchDeps = {
    registry: () => registry,
    adapters: new Map([["mariadb", adapter]]),
    limits: {
      max_body_bytes: 65536,
      max_reply_bytes: 16_777_216,
      default_read_limit: 100,
      max_read_limit: 1000,
    },
  };
  const ops: ReadonlySet<Op> = new Set<Op>(["read"]);
  const perCall = async (n: number, request: Request) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await dispatch(request, ops, deps, { event: "0000000a1-n-b-0000" });
    return (performance.now() - t0) * 1000 / n;
  };
  for (let round = 1; round <= 3; round++) {
    const fanOut = await perCall(5_000, { template: "dsh", op: "read" } as Request);
    const read = await perCall(50_000, { template: "cus", op: "read", key: { id: 3 } } as Request);
    console.log(`round ${round}: dsh fan-out ${fanOut.toFixed(1)} µs, cus read by key ${read.toFixed(2)} µs`);
  }
}
