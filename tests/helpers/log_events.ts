/**
 * A request event as the consumer emits it, for log store tests: a successful
 * one-row `prd` read unless `overrides` say otherwise.
 *
 * @module
 */
import type { RequestEvent } from "../../src/logstore/mod.ts";

/** A request event with test defaults. */
export function requestEvent(overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    kind: "request",
    event: "0000000a1-n-b-0000",
    at: "2025-01-02T03:04:05.678Z",
    node: "n",
    broker: "rBroker",
    template: "prd",
    op: "read",
    ms: 1.5,
    rows: 1,
    attempt: 1,
    action: "reply",
    ...overrides,
  };
}
