/**
 * `beds shutdown --node INSTANCE` and `beds status`: admin commands over
 * AMQP to one node or to every node.
 *
 * @module
 */
import { type AdminReply, type AdminRequest, BedsClientError, sendAdminCommand } from "../client/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { configFrom, parse, waitFlag } from "./args.ts";
import { loggingIn } from "./amqp_login.ts";
import { instanceNameProblem } from "../amqp/mod.ts";
import { printable } from "./printable.ts";

/** Usage of the admin commands. */
export const ADMIN_USAGE = "beds shutdown --node INSTANCE [--wait MS]   |   beds status [--wait MS] [--json]";

/** How long `beds status` collects replies unless `--wait`: a node answers it from memory. */
const STATUS_WAIT_MS = 1000;

/** A channel RabbitMQ closed because this user may not publish to the admin exchange. */
const ACCESS_REFUSED = /\bACCESS[-_]REFUSED\b/;

/**
 * The replies to an admin command, or the exit code (said on stderr) when there are none to show:
 * 3 when it reached no node, 1 when RabbitMQ refused it (e.g. `ACCESS_REFUSED` on the admin
 * exchange), which no waiting or retrying mends.
 */
export async function adminReplies(io: CliIo, request: AdminRequest): Promise<AdminReply[] | 1 | 3> {
  try {
    return await loggingIn(request.amqp, () => sendAdminCommand(request));
  } catch (error) {
    if (!(error instanceof BedsClientError)) throw error;
    io.err(`beds: ${error.message}`);
    return error.kind === "CLOSED" && ACCESS_REFUSED.test(error.message) ? 1 : 3;
  }
}

/**
 * The nodes running now, as `beds status` finds them: every node that answers its broadcast,
 * refusing or not (a refusal names the node too). Or the exit code, as {@link adminReplies}.
 */
export async function fleetNow(io: CliIo, amqp: AdminRequest["amqp"]): Promise<Set<string> | 1 | 3> {
  const replies = await adminReplies(io, { amqp, command: "status", waitMs: STATUS_WAIT_MS });
  if (typeof replies === "number") return replies;
  return new Set(replies.map((r) => r.meta?.node).filter((node) => typeof node === "string"));
}

/** Asks one node instance to shut down (drain, then exit 0). */
export async function shutdownCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { node: { type: "string" }, wait: { type: "string" } }, false);
  if (values.help) {
    io.out(ADMIN_USAGE);
    return 0;
  }
  if (!values.node) throw new UsageError("beds shutdown needs --node INSTANCE");
  // A wildcard (`#`, `*`) would reach every node it matches: one shutdown per instance.
  const wrong = instanceNameProblem(values.node);
  if (wrong) throw new UsageError(`beds shutdown --node: ${wrong}`);
  // Checked before the config is read, as every usage error is.
  const waitMs = waitFlag(values.wait, 5000);
  const config = configFrom(values, io);
  const replies = await adminReplies(io, {
    amqp: config.amqp,
    command: "shutdown",
    node: values.node,
    waitMs,
  });
  if (typeof replies === "number") return replies;
  if (!replies.length) {
    io.err(`beds: node "${values.node}" did not answer`);
    return 3;
  }
  const refused = replies.find((r) => !r.ok);
  if (refused) {
    io.err(refusedLine(values.node, refused));
    return 1;
  }
  io.out(`node ${values.node}: shutting down`);
  return 0;
}

/** What a node's `status` reply holds, as far as the table shows it. */
export interface StatusData {
  node: string;
  role: string;
  uptimeMs: number;
  brokers: Array<{
    broker: string;
    consumers: number;
    inflight: number;
    requests: number;
    errors: number;
    ratePerSec?: number;
    lastError?: { code: string; at: string };
    crashLoop?: boolean;
  }>;
}

/** The most recent error of any of a node's brokers, as "CODE TIME". */
function lastErrorOf(s: StatusData): string {
  const errors = s.brokers.flatMap((b) => b.lastError ? [b.lastError] : []).sort((a, b) =>
    b.at.localeCompare(a.at)
  );
  return errors[0] ? `${errors[0].code} ${errors[0].at}` : "-";
}

/**
 * A node's refusal, for stderr. What a reply holds is the sender's to choose (any user who may
 * publish to the reply queue), so it is made printable like every text from outside.
 */
export function refusedLine(node: unknown, reply: AdminReply): string {
  return printable(`beds: node ${node} refused: ${reply.error?.code} ${reply.error?.message}`);
}

/**
 * The lines of `beds status`: a header and a row per node. Each column is as wide as its widest
 * cell, so that a long node name or error code (`UNKNOWN_TEMPLATE` and a time) does not push the
 * columns after it out of line; every cell is printable (it comes from the node's reply).
 */
export function statusTable(statuses: readonly StatusData[]): string[] {
  const header = [
    "NODE",
    "ROLE",
    "UPTIME",
    "REQ/S",
    "LAST ERROR",
    "BROKERS (consumers/in-flight/requests/errors)",
  ];
  const rows = statuses.map((s) => {
    const rate = s.brokers.reduce((n, b) => n + (b.ratePerSec ?? 0), 0);
    const brokers = s.brokers.map((b) =>
      `${b.broker} ${b.consumers}/${b.inflight}/${b.requests}/${b.errors}${b.crashLoop ? " CRASH-LOOP" : ""}`
    );
    return [
      s.node,
      s.role,
      `${Math.round(s.uptimeMs / 1000)}s`,
      rate.toFixed(1),
      lastErrorOf(s),
      brokers.join(", "),
    ].map((cell) => printable(String(cell)));
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // UPTIME and REQ/S are numbers: right-aligned. The last column is not padded.
  const right = new Set([2, 3]);
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)
    ).join(" ");
  return [line(header), ...rows.map(line)];
}

/** Asks every node for its status and prints a table. */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { wait: { type: "string" }, json: { type: "boolean" } }, false);
  if (values.help) {
    io.out(ADMIN_USAGE);
    return 0;
  }
  // Checked before the config is read, as every usage error is.
  const waitMs = waitFlag(values.wait, STATUS_WAIT_MS);
  const config = configFrom(values, io);
  let replies = await adminReplies(io, {
    amqp: config.amqp,
    command: "status",
    waitMs,
  });
  if (typeof replies === "number") return replies;
  // A node that refused (e.g. FORBIDDEN to this user) has no status to show: it is named on stderr.
  const refused = replies.filter((r) => !r.ok);
  for (const r of refused) io.err(refusedLine(r.meta?.node, r));
  replies = replies.filter((r) => r.ok);
  if (values.json) {
    io.out(JSON.stringify(replies.map((r) => r.data), null, 2));
    return refused.length ? 1 : 0;
  }
  for (const line of statusTable(replies.map((r) => r.data as StatusData))) io.out(line);
  io.out(`${replies.length} node(s)${refused.length ? `, ${refused.length} refused` : ""}`);
  return refused.length ? 1 : 0;
}
