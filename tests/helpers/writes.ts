/**
 * Shared checks for write-heavy fault tests: every write answered, and the
 * table holds exactly the writes that were acknowledged.
 *
 * @module
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import type { Reply } from "../../src/protocol/mod.ts";
import type { TestEnv } from "./services.ts";

/**
 * The write broker with `instances` consumers and short retry tiers, so transient write failures
 * heal within the test.
 */
export function fastRetries(instances: number): string {
  return `
[brokers.wBroker]
ops = ["create", "update", "delete"]
bindings = ["create.*", "update.*", "delete.*"]
instances = ${instances}
prefetch = 20
queue_type = "quorum"
retry_delays_ms = [200, 500, 1000, 2000]
max_attempts = 6
`;
}

/** {@link fastRetries} with two consumers. */
export const FAST_RETRIES = fastRetries(2);

/** SKUs of the products in the env's schema with the given prefix. */
export async function skus(env: TestEnv, prefix: string): Promise<Set<string>> {
  const conn = await mariadb.createConnection({
    host: "127.0.0.1",
    user: "root",
    password: "",
    database: env.schema,
  });
  try {
    const rows = await conn.query("SELECT sku FROM products WHERE sku LIKE ?", [`${prefix}-%`]) as Array<
      { sku: string }
    >;
    return new Set(rows.map((r) => r.sku));
  } finally {
    await conn.end();
  }
}

/** Asserts that every write was answered, and that the rows match the answers. */
export function assertWritesAccounted(
  results: Array<{ index: number; reply?: Reply; error?: Error }>,
  written: Set<string>,
  skuOf: (i: number) => string,
): { ok: number; conflict: number } {
  let ok = 0;
  let conflict = 0;
  for (const r of results) {
    assert.ok(r.reply, `request ${r.index} got no reply: ${r.error?.message}`);
    const sku = skuOf(r.index);
    if (r.reply.ok) {
      ok++;
      assert.ok(written.has(sku), `request ${r.index} was acknowledged but ${sku} is not in the table`);
    } else if (r.reply.error.code === "CONFLICT") {
      // At-least-once: a redelivered write whose first attempt had committed.
      conflict++;
      assert.ok(written.has(sku), `request ${r.index} conflicted but ${sku} is not in the table`);
    } else {
      assert.fail(`request ${r.index} failed: ${r.reply.error.code} ${r.reply.error.message}`);
    }
  }
  assert.equal(written.size, results.length, "every write is in the table exactly once");
  return { ok, conflict };
}
