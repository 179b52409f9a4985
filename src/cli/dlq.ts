/**
 * `beds dlq list|replay|purge`: the dead-letter queues of the configured
 * brokers (of every node role, or the one named by --role).
 *
 * @module
 */
import { adminExchangeName, amqpUser, connectAmqp, deadLetterQueueName, workQueueName } from "../amqp/mod.ts";
import {
  type DeadLetter,
  type DeadLetterSource,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from "../brokers/mod.ts";
import type { Config } from "../config/mod.ts";
import { type CliIo, stoppedExitCode, UsageError } from "./io.ts";
import { configFrom, parse, refuseOtherFlags } from "./args.ts";
import { printable } from "./printable.ts";
import { loggingIn } from "./amqp_login.ts";

/** Usage of `beds dlq`. */
export const DLQ_USAGE =
  "beds dlq list [--broker B] [--role R] [--json] | beds dlq replay (--id ID | --all) [--broker B] [--role R]" +
  " | beds dlq purge --yes [--broker B] [--role R]";

/** The flags of each action; any other is refused (purge takes no --id: it empties whole queues). */
const ACTION_FLAGS = new Map<string, readonly string[]>([
  ["list", ["broker", "role", "json"]],
  ["replay", ["broker", "role", "id", "all"]],
  ["purge", ["broker", "role", "yes"]],
]);

function queuesOf(config: Config, role?: string, broker?: string): DeadLetterSource[] {
  const out: DeadLetterSource[] = [];
  for (const [name, node] of Object.entries(config.nodes)) {
    if (role && name !== role) continue;
    for (const b of node.brokers) {
      if (broker && b !== broker) continue;
      out.push({
        queue: deadLetterQueueName(workQueueName(config.amqp.queue_prefix, name, b)),
        exchange: config.brokers[b]?.exchange === "admin"
          ? adminExchangeName(config.amqp.exchange)
          : config.amqp.exchange,
        bindings: config.brokers[b]?.bindings ?? [],
      });
    }
  }
  if (!out.length) {
    throw new UsageError(
      `No broker matches${role ? ` role "${role}"` : ""}${broker ? ` broker "${broker}"` : ""}`,
    );
  }
  return out;
}

/**
 * A letter as `dlq list` shows it, in two lines. The requester too: a letter anyone published
 * straight into the queue runs as them.
 */
function letterLines(l: DeadLetter): string[] {
  return [
    printable(
      `${l.id}  message_id=${l.messageId || "(none)"}  ${l.queue}  ${l.routingKey}  user=${
        l.user || "(none)"
      }  attempts=${l.attempts}  ${l.errorCode || l.reason}: ${l.errorMessage}${
        l.redelivered ? "  (redelivered: it may have run before)" : ""
      }`,
    ),
    printable(`    ${l.deadAt}  ${l.body.length > 200 ? `${l.body.slice(0, 200)}…` : l.body}`),
  ];
}

/** A letter's id, and its request's message_id when it had one. */
function named(l: DeadLetter): string {
  return l.messageId ? `${l.id} (message_id ${l.messageId})` : l.id;
}

/** Lists, replays or purges dead letters. */
export async function dlqCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    broker: { type: "string" },
    role: { type: "string" },
    id: { type: "string" },
    all: { type: "boolean" },
    yes: { type: "boolean" },
    json: { type: "boolean" },
  });
  const [action, ...extra] = positionals;
  if (values.help) {
    io.out(DLQ_USAGE);
    return 0;
  }
  const own = ACTION_FLAGS.get(action ?? "");
  if (!own || extra.length) throw new UsageError(`Usage: ${DLQ_USAGE}`);
  refuseOtherFlags(`beds dlq ${action}`, values, own);
  if (action === "replay" && !values.id === !values.all) {
    throw new UsageError("beds dlq replay needs --id ID or --all");
  }
  if (action === "purge" && !values.yes) {
    throw new UsageError("beds dlq purge deletes messages: confirm with --yes");
  }
  const config = configFrom(values, io);
  const sources = queuesOf(config, values.role, values.broker);
  const queues = sources.map((s) => s.queue);
  const connection = await loggingIn(
    config.amqp,
    () => connectAmqp(config.amqp, { name: `beds dlq ${action}` }),
  );
  try {
    if (action === "list") {
      const letters = await listDeadLetters(connection, queues, amqpUser(config.amqp));
      if (values.json) io.out(JSON.stringify(letters, null, 2));
      else {
        for (const l of letters) for (const line of letterLines(l)) io.out(line);
        io.out(`${letters.length} dead letter(s)`);
      }
      return 0;
    }
    if (action === "replay") {
      // Stopped between letters. A letter's copy and its ack take effect together (one AMQP
      // transaction), so even a run killed mid-letter leaves either the letter or its copy.
      io.handleSignals?.();
      const { replayed, kept, ambiguous } = await replayDeadLetters(connection, {
        queues: sources,
        id: values.id,
        userId: amqpUser(config.amqp),
        signal: io.signal,
      });
      if (ambiguous.length) {
        // Replaying them all would run a write as often as it was kept: the operator picks one.
        io.err(printable(
          `beds: --id "${values.id}" names ${ambiguous.length} different letters; none replayed. ` +
            "Replay one by its id (the first column):",
        ));
        for (const l of ambiguous) for (const line of letterLines(l)) io.err(line);
        return 1;
      }
      for (const l of replayed) {
        io.out(printable(`replayed ${named(l)} → ${l.routingKey} as ${l.user || "(no user)"}`));
      }
      for (const l of kept) io.err(printable(`kept ${named(l)} in ${l.queue}: ${l.why}`));
      if (values.id && !replayed.length && !kept.length && !io.signal.aborted) {
        io.err(printable(`beds: no dead letter has the id or message_id "${values.id}"`));
      }
      io.out(`${replayed.length} message(s) replayed${kept.length ? `, ${kept.length} kept` : ""}`);
      if (io.signal.aborted) {
        io.err("beds: stopped by a signal; the letters not replayed stay in their queues");
        return stoppedExitCode(io.signal);
      }
      return kept.length || (values.id && !replayed.length) ? 1 : 0;
    }
    io.out(`${await purgeDeadLetters(connection, queues)} message(s) purged`);
    return 0;
  } finally {
    await connection.close().catch(() => {});
  }
}
