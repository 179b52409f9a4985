/**
 * Cross-checks the schema cannot express: node roles name existing brokers,
 * a broker binds only ops it may run, and no two brokers bind overlapping
 * keys on one exchange (a topic exchange would copy such a request into both
 * queues, and a write would be applied twice).
 *
 * @module
 */
import type { ParsedConfig } from "./schema.ts";

/** A cross-check failure: dotted key path and reason. */
export interface BindingProblem {
  path: string;
  text: string;
}

function wordsOverlap(a: string, b: string): boolean {
  return a === b || a === "*" || a === "#" || b === "*" || b === "#";
}

/** True when some `<op>.<template>` routing key matches both binding keys. */
export function bindingsOverlap(a: string, b: string): boolean {
  const [aOp, aTpl] = a.split(".");
  const [bOp, bTpl] = b.split(".");
  return wordsOverlap(aOp!, bOp!) && wordsOverlap(aTpl!, bTpl!);
}

/** Returns the first cross-check failure of `config`, or undefined. */
export function checkBindings(config: ParsedConfig): BindingProblem | undefined {
  if (!config.nodes[config.node.name]) {
    return {
      path: "node.name",
      text: `node "${config.node.name}" is not defined in [nodes]`,
    };
  }
  for (const [role, node] of Object.entries(config.nodes)) {
    for (const [i, broker] of node.brokers.entries()) {
      if (!config.brokers[broker]) {
        return { path: `nodes.${role}.brokers.${i}`, text: `unknown broker "${broker}"` };
      }
    }
  }
  const owner = new Map<string, string>();
  for (const [role, node] of Object.entries(config.nodes)) {
    for (const [i, broker] of node.brokers.entries()) {
      const other = owner.get(broker);
      if (other !== undefined && config.brokers[broker]!.bindings.length) {
        return {
          path: `nodes.${role}.brokers.${i}`,
          text:
            `broker "${broker}" is already run by role "${other}"; each role's queue would get every request`,
        };
      }
      owner.set(broker, role);
    }
  }
  const seen: Array<{ broker: string; key: string; exchange: string }> = [];
  for (const [broker, settings] of Object.entries(config.brokers)) {
    for (const [i, key] of settings.bindings.entries()) {
      const op = key.split(".")[0]!;
      const path = `brokers.${broker}.bindings.${i}`;
      if (op !== "*" && op !== "#" && !(settings.ops as string[]).includes(op)) {
        return { path, text: `binding "${key}" routes op "${op}", which the broker may not run` };
      }
      const clash = seen.find((other) =>
        other.exchange === settings.exchange && bindingsOverlap(other.key, key)
      );
      if (clash) {
        return {
          path,
          text: `binding "${key}" overlaps "${clash.key}" of broker "${clash.broker}"`,
        };
      }
      seen.push({ broker, key, exchange: settings.exchange });
    }
  }
  return undefined;
}
