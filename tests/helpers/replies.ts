/**
 * Assertions on BEDS replies shared by the integration tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ErrorBody } from "../../src/errors.ts";
import type { Reply } from "../../src/protocol/mod.ts";

/** A row as it comes back in a reply. */
export type Row = Record<string, unknown>;

/** Asserts an ok reply and returns its data. */
export function expectOk<T = Row>(reply: Reply): T {
  if (!reply.ok) assert.fail(`expected an ok reply, got ${JSON.stringify(reply)}`);
  return reply.data as T;
}

/** Asserts an error reply with `code` and returns its error body. */
export function expectError(reply: Reply, code: string): ErrorBody {
  if (reply.ok) assert.fail(`expected error ${code}, got an ok reply: ${JSON.stringify(reply)}`);
  assert.equal(reply.error.code, code, `expected error ${code}, got ${JSON.stringify(reply.error)}`);
  return reply.error;
}
