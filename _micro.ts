import { dispatch } from "./src/dispatch/dispatch.ts";
import { operations } from "./src/adapters/mariadb/operations.ts";
import { loadTemplates } from "./src/templates/loader.ts";
import { createRegistry } from "./src/templates/registry.ts";
import type { Op } from "./src/config/mod.ts";
const reg = createRegistry(await loadTemplates("./templates"));
const row = { id: 1, sku: "SKU-1", name: "Product", price: "9.99", stock: 3, created_at: new Date() };
const ops = operations((d) => d, (st) => Promise.resolve(st.sql.includes("fn_") ? [{ value: 1 }] : [row]), (st) => Promise.resolve([{ value: 1 }]));
const adapter = { store: "mariadb", ...ops, verify: () => Promise.resolve([]), health: () => ({ healthy: true, detail: {} }), close: async () => {}, transaction: () => { throw new Error(); } };
const deps = { registry: () => reg, adapters: new Map([["mariadb", adapter as never]]), limits: { max_body_bytes: 65536, default_read_limit: 100, max_read_limit: 1000 } };
const all = new Set<Op>(["read"]);
const run = async (n: number, req: Record<string, unknown>) => { const t = performance.now(); for (let i = 0; i < n; i++) await dispatch(req as never, all, deps as never, { event: "abc-def" }); return (performance.now() - t) * 1000 / n; };
for (let r = 0; r < 3; r++) {
  console.log("dsh", (await run(5000, { template: "dsh", op: "read" })).toFixed(1), "µs/dispatch", "  cus", (await run(50000, { template: "cus", op: "read", key: { id: 3 } })).toFixed(2));
}
