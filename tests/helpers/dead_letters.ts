/**
 * Dead letters as tests read them: a write broker that gives up quickly, and `beds dlq list --json`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { DeadLetter } from "../../src/brokers/mod.ts";
import { cli, type TestEnv } from "./services.ts";

/** wBroker with two short delay tiers and three attempts: a failing write is a dead letter in about 0.6 s. */
export const SHORT_RETRIES = `
[brokers.wBroker]
ops = ["create", "update", "delete"]
bindings = ["create.*", "update.*", "delete.*"]
instances = 1
prefetch = 10
retry_delays_ms = [200, 400]
max_attempts = 3
`;

/** The dead letters of the appServer role (`args`: more `beds dlq list` flags, e.g. `--broker`). */
export async function listLetters(env: TestEnv, ...args: string[]): Promise<DeadLetter[]> {
  const run = await cli(["dlq", "list", "--json", "--role", "appServer", ...args, ...env.cliArgs]);
  assert.equal(run.code, 0, run.err);
  return JSON.parse(run.out) as DeadLetter[];
}
