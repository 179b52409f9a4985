/**
 * Request events as the consumer emits them, for log store and metrics tests:
 * a successful one-row `prd` read unless `overrides` say otherwise, and a
 * fan-out with its parts inside.
 *
 * @module
 */
import type { PartEvent, RequestEvent } from "../../src/logstore/mod.ts";

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

/** A `dsh` fan-out's event with its parts inside, part n as `${root}.n`, each a one-row `prd` read unless told. */
export function fanOutEvent(
  root: string,
  parts: ReadonlyArray<Partial<PartEvent>>,
  overrides: Partial<RequestEvent> = {},
): RequestEvent {
  return requestEvent({
    event: root,
    template: "dsh",
    rows: parts.length,
    ...overrides,
    parts: parts.map((p, i) => ({
      event: `${root}.${i + 1}`,
      template: "prd",
      op: "read",
      ms: 1.5,
      rows: 1,
      ...p,
    })),
  });
}
