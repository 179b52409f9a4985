/**
 * Cross-checks the schema cannot express: node roles name existing brokers,
 * a broker binds only ops it may run, and no two brokers bind overlapping
 * keys on one exchange (a topic exchange would copy such a request into both
 * queues, and a write would be applied twice). Also what `beds check` cannot
 * see, since only `beds run` opens them: a MariaDB log store names a schema
 * the config maps, and the HTTP listener and the gateway do not share a port.
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

/**
 * A MariaDB log store's `database` must be a key of `[databases.mariadb.schemas]`: any other name is
 * taken as a schema of its own, which has no log store procedures (a typo would stop `beds run`).
 */
function checkLogstore(config: ParsedConfig): BindingProblem | undefined {
  const { store, database } = config.logstore;
  if (store !== "mariadb") return undefined;
  const maria = config.databases.mariadb;
  if (!maria) {
    return { path: "logstore.store", text: 'is "mariadb", but [databases.mariadb] is not configured' };
  }
  if (Object.hasOwn(maria.schemas, database)) return undefined;
  const keys = Object.keys(maria.schemas).map((k) => `"${k}"`).join(", ") || "none";
  return {
    path: "logstore.database",
    text: `"${database}" is not a key of [databases.mariadb.schemas] (${keys})`,
  };
}

/** Hosts that listen on every address: a port taken on one of them is taken on each host. */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A listener's host as compared: lower case, without an IPv6 literal's brackets. */
const plainHost = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, "$1");

/**
 * Whether two listeners on one port certainly clash: the same host, or a wildcard and an address
 * of its family (`0.0.0.0` takes every IPv4 address, `::` every IPv6 one). Anything less certain
 * (a name, `::` against IPv4 where the kernel may keep the families apart) is left to the bind.
 */
function sameListener(a: string, b: string): boolean {
  const [x, y] = [plainHost(a), plainHost(b)];
  if (x === y) return true;
  const wildcardOver = (any: string, other: string) =>
    (any === "0.0.0.0" && IPV4.test(other)) || (any === "::" && other.includes(":"));
  return wildcardOver(x, y) || wildcardOver(y, x);
}

/** `host:port` as a URL writes it (an IPv6 literal in brackets). */
const listener = (host: string, port: number) => {
  const plain = plainHost(host);
  return `${plain.includes(":") ? `[${plain}]` : plain}:${port}`;
};

/**
 * On a role with the gateway, the node listens on `[http]` and on `[gateway]`: on the same port
 * (port 0 takes a free one) and a host that certainly clashes, the gateway would find it taken and
 * stop the start.
 */
function checkListeners(config: ParsedConfig): BindingProblem | undefined {
  const { http, gateway } = config;
  if (!http.enabled || !gateway.enabled || gateway.port === 0 || gateway.port !== http.port) return undefined;
  if (!sameListener(http.host, gateway.host)) return undefined;
  const role = Object.entries(config.nodes).find(([, node]) => node.gateway)?.[0];
  if (role === undefined) return undefined;
  return {
    path: "gateway.port",
    text: `${listener(gateway.host, gateway.port)} is also [http]'s listener (${
      listener(http.host, http.port)
    }): a node of role "${role}" opens both and could not open the second; give them different ports`,
  };
}

/** Returns the first cross-check failure of `config`, or undefined. */
export function checkBindings(config: ParsedConfig): BindingProblem | undefined {
  return checkRoutes(config) ?? checkLogstore(config) ?? checkListeners(config);
}

/** Roles, brokers and their bindings. */
function checkRoutes(config: ParsedConfig): BindingProblem | undefined {
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
