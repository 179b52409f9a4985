/**
 * The oracle of the hostile-input suite: predicts what a node must answer to
 * a body by running the node's own decoder, routing-key check and dispatcher
 * in-process against a recording adapter. Everything up to the database call
 * is predicted exactly; a body that reaches the database is reported as such.
 *
 * @module
 */
import type { Adapter } from "../../src/adapters/mod.ts";
import type { Config, Op } from "../../src/config/mod.ts";
import { dispatch } from "../../src/dispatch/mod.ts";
import { BedsError, type ErrorCode } from "../../src/errors.ts";
import { decodeRequest, routingKey } from "../../src/protocol/mod.ts";
import { createRegistry, loadTemplates } from "../../src/templates/mod.ts";

/** What the node must do with a body. */
export interface Prediction {
  /** The error code the node answers before any database call; undefined if it reaches the database. */
  code?: ErrorCode;
  /** The decoded op, when the body decodes. */
  op?: Op;
  /**
   * Dead-lettered as poison, even with a reply_to: the body did not decode,
   * or it is BAD_REQUEST or TOO_LARGE at any stage (docs/protocol.md §7).
   */
  poison: boolean;
}

const POISON = new Set<ErrorCode>(["BAD_REQUEST", "TOO_LARGE"]);

/** Predicts the answer to bodies as a node with `config` would give it. */
export type Oracle = (routingKey: string, bytes: Uint8Array) => Promise<Prediction>;

/** An adapter whose every operation stops the request at the database door and says so. */
function recordingAdapter(reached: () => void): Adapter {
  const stop = () => {
    reached();
    return Promise.reject(new Error("stopped at the database"));
  };
  return {
    store: "mariadb",
    create: stop,
    read: stop,
    update: stop,
    delete: stop,
    call: stop,
    transaction: stop,
    verify: () => Promise.resolve([]),
    health: () => ({ healthy: true, detail: {} }),
    close: () => Promise.resolve(),
  };
}

/** True when a topic binding with `*` words matches a two-word key. */
function bindingMatches(binding: string, key: string): boolean {
  const [bo, bt] = binding.split(".");
  const [ko, kt, ...rest] = key.split(".");
  if (binding === "#") return true;
  if (rest.length) return bt === "#";
  return (bo === "*" || bo === "#" || bo === ko) && (bt === "*" || bt === "#" || bt === kt);
}

/** Builds the oracle from the node's config and templates. */
export async function createOracle(config: Config, role = "appServer"): Promise<Oracle> {
  const registry = createRegistry(await loadTemplates(config.templatesDir));
  const brokers = config.nodes[role]!.brokers.map((name) => config.brokers[name]!);
  return async (key, bytes) => {
    let request;
    try {
      request = decodeRequest(bytes, config.limits.max_body_bytes);
    } catch (error) {
      return { code: (error as BedsError).code, poison: true };
    }
    if (routingKey(request.op, request.template) !== key) {
      return { code: "BAD_REQUEST", op: request.op, poison: true };
    }
    const broker = brokers.find((b) => b.bindings.some((binding) => bindingMatches(binding, key)));
    if (!broker) throw new Error(`no broker of ${role} binds "${key}"`);
    // Any part of a request reaching the database makes it count as valid (writes are left out).
    let reached = false;
    const adapters = new Map([["mariadb", recordingAdapter(() => reached = true)]]);
    try {
      await dispatch(request, new Set(broker.ops), {
        registry: () => registry,
        adapters,
        limits: config.limits,
      }, {
        event: "oracle",
      });
    } catch (error) {
      if (reached) return { op: request.op, poison: false };
      if (error instanceof BedsError) {
        return { code: error.code, op: request.op, poison: POISON.has(error.code) };
      }
      return { code: "INTERNAL", op: request.op, poison: false };
    }
    return { op: request.op, poison: false };
  };
}
