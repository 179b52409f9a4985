/**
 * `beds templates list|show NAME`: the templates in the configured
 * directory, read offline (no services needed); `validate` and `verify`
 * live in templates_check.ts.
 *
 * @module
 */
import { loadTemplates, type RecTemplate, type Template } from "../templates/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { configFrom, parse, refuseOtherFlags, waitFlag } from "./args.ts";
import { adminReplies, fleetNow } from "./admin.ts";
import { printable } from "./printable.ts";
import type { AdminReply } from "../client/mod.ts";
import { validateCommand, verifyCommand } from "./templates_check.ts";
import type { ReloadResult } from "../ipl/mod.ts";

/** Usage of `beds templates`. */
export const TEMPLATES_USAGE =
  "beds templates (list | show NAME | validate [DIR] | verify) [--dir DIR] | reload [--wait MS]   [--config DIR] [--env ENV]";

/** The flags of each action; any other is refused (a reload asks the nodes, which read their own directory). */
const ACTION_FLAGS = new Map<string, readonly string[]>([
  ["list", ["dir"]],
  ["show", ["dir"]],
  ["validate", ["dir"]],
  ["verify", ["dir"]],
  ["reload", ["wait"]],
]);

function opsOf(t: RecTemplate): string {
  return (["create", "read", "update", "delete"] as const).filter((op) => t.ops[op]).join(",");
}

/** Describes one template as plain data. */
export function describeTemplate(t: Template): Record<string, unknown> {
  if (t.kind === "rel") {
    return {
      name: t.name,
      kind: "rel",
      description: t.description,
      file: t.file,
      concurrency: t.concurrency,
      fields: t.fields,
      input: t.input,
      parts: Object.fromEntries(t.parts.map((p) => [p.name, { ...p.spec, after: p.after }])),
    };
  }
  if (t.kind === "txn") {
    return {
      name: t.name,
      kind: "txn",
      description: t.description,
      file: t.file,
      fields: t.fields,
      input: t.input,
      steps: t.steps.map((s) => s.spec),
    };
  }
  return {
    kind: "rec",
    name: t.name,
    description: t.description,
    store: t.store,
    database: t.database,
    ...(t.collection === undefined ? {} : { collection: t.collection }),
    file: t.file,
    fields: t.fields,
    ops: t.ops,
    calls: Object.fromEntries(t.calls),
  };
}

/** Lists or shows templates. */
export async function templatesCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: "string" }, wait: { type: "string" } });
  const [action, name, ...extra] = positionals;
  if (values.help) {
    io.out(TEMPLATES_USAGE);
    return 0;
  }
  if (!action) throw new UsageError(`Usage: ${TEMPLATES_USAGE}`);
  const own = ACTION_FLAGS.get(action);
  if (own) refuseOtherFlags(`beds templates ${action}`, values, own);
  if (action === "reload" && !name) return await reloadFleet(values, io);
  if (action === "validate" && name !== undefined && values.dir !== undefined) {
    // Either would be taken and the other silently ignored.
    throw new UsageError("beds templates validate takes DIR or --dir, not both");
  }
  if (action === "validate" && !extra.length) return await validateCommand(name, values, io);
  if (action === "verify" && !name) return await verifyCommand(values, io);
  const dir = values.dir ?? configFrom(values, io).templatesDir;
  const templates = await loadTemplates(dir);
  if (action === "list" && !name) {
    io.out(`${"NAME".padEnd(6)} ${"STORE".padEnd(8)} ${"DATABASE".padEnd(10)} ${"OPS".padEnd(26)} CALLS`);
    for (const t of [...templates].sort((a, b) => a.name.localeCompare(b.name))) {
      io.out(
        t.kind === "rel"
          ? `${t.name.padEnd(6)} ${"rel".padEnd(8)} ${"-".padEnd(10)} ${
            "read".padEnd(26)
          } ${t.parts.length} parts`
          : t.kind === "txn"
          ? `${t.name.padEnd(6)} ${"txn".padEnd(8)} ${"-".padEnd(10)} ${
            "create".padEnd(26)
          } ${t.steps.length} steps`
          : `${t.name.padEnd(6)} ${t.store.padEnd(8)} ${t.database.padEnd(10)} ${opsOf(t).padEnd(26)} ${
            [...t.calls.keys()].join(",") || "-"
          }`,
      );
    }
    io.out(`${templates.length} templates in ${dir}`);
    return 0;
  }
  if (action === "show" && name && !extra.length) {
    const t = templates.find((t) => t.name === name);
    if (!t) {
      io.err(`beds: unknown template "${name}" in ${dir}`);
      return 1;
    }
    io.out(JSON.stringify(describeTemplate(t), null, 2));
    return 0;
  }
  throw new UsageError(`Usage: ${TEMPLATES_USAGE}`);
}

/**
 * How long a reload waits for the nodes unless `--wait`. Each node loads its templates and checks
 * them against its stores' catalogs, queued behind the requests it is serving: under load that
 * is seconds, and a database that stops answering holds it for a statement's `query_timeout_ms`
 * (30 s by default) before the node refuses. The wait ends once every node has answered, so a
 * long bound costs a healthy fleet nothing.
 */
const RELOAD_WAIT_MS = 60_000;

/**
 * `beds templates reload`: asks every node (broadcast over AMQP) to load and
 * verify its templates and its config's access grants and swap them in.
 * Replies alone cannot tell a node slow to verify from one that is not
 * there, so the nodes running are learnt first, as `beds status` does, and
 * each is waited for. Exit 1 if any node refused, else 3 if any did not answer.
 */
async function reloadFleet(
  values: { config?: string; env?: string; wait?: string },
  io: CliIo,
): Promise<number> {
  // Checked before the config is read, as every usage error is.
  const waitMs = waitFlag(values.wait, RELOAD_WAIT_MS);
  const config = configFrom(values, io);
  const fleet = await fleetNow(io, config.amqp);
  if (typeof fleet === "number") return fleet;
  if (!fleet.size) {
    io.err("beds: no node answered");
    return 3;
  }
  const replies = await adminReplies(io, {
    amqp: config.amqp,
    command: "reload",
    waitMs,
    awaiting: fleet,
  });
  if (typeof replies === "number") return replies;
  let failed = 0;
  for (const reply of replies) {
    if (!reportReload(reply, io)) failed++;
    if (!fleet.has(reply.meta?.node)) {
      io.err(
        printable(
          `beds: node ${reply.meta?.node} answered the reload but not the status before it (started meanwhile)`,
        ),
      );
    }
  }
  const answered = new Set(replies.map((r) => r.meta?.node));
  const silent = [...fleet].filter((node) => !answered.has(node));
  for (const node of silent) {
    // Its outcome is unknown, not a refusal: it may still reload, or keep what it has.
    io.err(printable(`beds: node ${node} did not answer the reload within ${waitMs} ms`));
  }
  return failed ? 1 : silent.length ? 3 : 0;
}

/** Prints one node's reply to a reload; whether it took the new templates. */
function reportReload(reply: AdminReply, io: CliIo): boolean {
  const result = reply.data as ReloadResult | undefined;
  if (!reply.ok || !result) {
    // The command itself was refused (e.g. FORBIDDEN): the node tried nothing.
    io.err(printable(`beds: node ${reply.meta.node} refused: ${reply.error?.code} ${reply.error?.message}`));
    return false;
  }
  // Whoever may publish to the reply queue writes these texts: no control character reaches the terminal.
  if (!result.ok) {
    io.out(printable(`${reply.meta.node}: refused, kept ${result.templates} templates: ${result.error}`));
    return false;
  }
  const access = result.access ? `, access control ${result.access}` : "";
  io.out(printable(`${reply.meta.node}: reloaded, ${result.templates} templates${access}`));
  return true;
}
