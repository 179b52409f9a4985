/**
 * `beds call TEMPLATE OP`: sends one request through RabbitMQ and prints the
 * reply. Exit 0 on an ok reply, 1 on an error reply, 3 when no reply came.
 *
 * @module
 */
import { BedsClient, BedsClientError, MAX_TIMEOUT_MS, type RequestBody } from "../client/mod.ts";
import { OPS } from "../config/mod.ts";
import type { Op } from "../config/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { configFrom, integerFlag, jsonFlag, parse } from "./args.ts";
import { loggingIn } from "./amqp_login.ts";

/** Usage of `beds call`. */
export const CALL_USAGE = "beds call TEMPLATE OP [--key JSON] [--data JSON] [--where JSON] [--call NAME]\n" +
  "          [--limit N] [--offset N] [--order f,-g] [--parent EVENT] [--timeout MS]";

/** Sends the request and prints the reply as JSON. */
export async function callCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    key: { type: "string" },
    data: { type: "string" },
    where: { type: "string" },
    call: { type: "string" },
    limit: { type: "string" },
    offset: { type: "string" },
    order: { type: "string" },
    parent: { type: "string" },
    timeout: { type: "string" },
  });
  if (values.help) {
    io.out(CALL_USAGE);
    return 0;
  }
  const [template, op, ...extra] = positionals;
  if (!template || !op || extra.length) throw new UsageError(`Usage: ${CALL_USAGE}`);
  if (!(OPS as readonly string[]).includes(op)) {
    throw new UsageError(`Unknown op "${op}": expected ${OPS.join(", ")}`);
  }
  const body: RequestBody = { template, op: op as Op };
  const set = <K extends keyof RequestBody>(k: K, v: RequestBody[K] | undefined) => {
    if (v !== undefined) body[k] = v;
  };
  set("key", jsonFlag("key", values.key));
  set("data", jsonFlag("data", values.data));
  set("where", jsonFlag("where", values.where));
  set("call", values.call);
  set("limit", integerFlag("limit", values.limit, { min: 0 }));
  set("offset", integerFlag("offset", values.offset, { min: 0 }));
  set("order", values.order?.split(",").filter(Boolean));
  set("event", values.parent ? { parent: values.parent } : undefined);
  const timeoutMs = integerFlag("timeout", values.timeout, { min: 1, max: MAX_TIMEOUT_MS, unit: " ms" }) ??
    10_000;

  const config = configFrom(values, io);
  const client = await loggingIn(
    config.amqp,
    () => BedsClient.connect({ amqp: config.amqp, timeoutMs, name: "beds call", exactNumbers: true }),
  );
  try {
    const reply = await client.request(body);
    io.out(JSON.stringify(reply, null, 2));
    return reply.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof BedsClientError)) throw error;
    io.err(`beds: ${error.message}`);
    return 3;
  } finally {
    await client.close();
  }
}
