/**
 * Before a scenario is measured, each of its request kinds is sent once:
 * a template the node did not load (or no queue bound for it) skips the
 * scenario with that reason, any other failure fails it, and the replies'
 * sizes give the raw echo the same reply sizes as BEDS's.
 *
 * @module
 */
import type { BedsClient } from "../../src/client/mod.ts";
import { requestKinds, type Scenario, templatesOf } from "./scenario.ts";

/** Reply bytes per request kind (`op.template`), or why the scenario cannot run. */
export async function probe(
  scenario: Scenario,
  client: BedsClient,
): Promise<Record<string, number> | string> {
  const replyBytes: Record<string, number> = {};
  for (const kind of requestKinds(scenario)) {
    const reply = await client.request(kind.make().body).catch((error) => error as Error);
    if (reply instanceof Error) {
      return (reply as { kind?: string }).kind === "UNROUTABLE"
        ? `no queue is bound for "${kind.key}"`
        : reply.message;
    }
    if (!reply.ok) {
      const code = reply.error.code;
      return code === "UNKNOWN_TEMPLATE"
        ? `template ${templatesOf(scenario).join(", ")} is not loaded in the node (${code})`
        : `probe of ${kind.key} failed: ${code} ${reply.error.message}`;
    }
    replyBytes[kind.key] = new TextEncoder().encode(JSON.stringify(reply)).length;
  }
  return replyBytes;
}
