/**
 * `beds logs tail|chain`: read the log store through its template (`mst`)
 * and the store's adapter, as the node writes it; with `[logstore] store =
 * "admin"`, through the admin role's adminLogsBroker over AMQP.
 *
 * @module
 */
import { adminExchangeName } from "../amqp/mod.ts";
import { BedsClient } from "../client/mod.ts";
import { type Adapter, createMariadbAdapter, createMongodbAdapter } from "../adapters/mod.ts";
import { type Config, resolvePath } from "../config/mod.ts";
import { silentLogger } from "../logging/mod.ts";
import {
  buildChainTree,
  CHAIN_LIMIT,
  createAmqpLogStore,
  createLogStore,
  formatTailLine,
  loadLogStoreTemplate,
  type LogStore,
  renderChainTree,
  type StoredEvent,
  TAIL_FILTER_WIDTHS,
  type TailFilter,
} from "../logstore/mod.ts";
import { EVENT_ID_PATTERN } from "../protocol/mod.ts";
import { type CliIo, UsageError } from "./io.ts";
import { printable } from "./printable.ts";
import { configFrom, integerFlag, parse, refuseOtherFlags } from "./args.ts";
import { loggingIn } from "./amqp_login.ts";
import { filterTime } from "../../utilities/log_dumper/iso_time.ts";

import {
  FOLLOW_PAGE,
  followLagMs,
  type FollowMark,
  followSince,
  newestId,
  storedAfter,
  unseen,
} from "./logs_follow.ts";

/** Usage of `beds logs`. */
export const LOGS_USAGE =
  "beds logs tail [--node N] [--level L] [--kind K] [--template T] [--code C] [--since ISO_TIME] [--limit N]" +
  " [--follow] [--json]" +
  " | beds logs chain EVENT_ID [--json]";

const LEVELS = ["info", "warn", "error"];
const KINDS = ["ipl", "request", "status"];

async function openAdapter(config: Config): Promise<Adapter> {
  const store = config.logstore.store;
  if (store === "admin") throw new Error("The admin log store is read over AMQP");
  if (store === "off") throw new Error('The log store is off ([logstore] store = "off")');
  if (store === "mariadb") {
    const maria = config.databases.mariadb;
    if (!maria) throw new Error('[logstore] store = "mariadb" needs [databases.mariadb]');
    const adapter = createMariadbAdapter({ config: maria, logger: silentLogger() });
    return await opened(adapter, `MariaDB at ${maria.master.host}:${maria.master.port}`);
  }
  const mongo = config.databases.mongodb;
  if (!mongo) throw new Error('[logstore] store = "mongodb" needs [databases.mongodb]');
  const adapter = createMongodbAdapter({ config: mongo, logger: silentLogger() });
  return await opened(adapter, "MongoDB of [databases.mongodb]");
}

/** `adapter`, opened; or an error naming the log store and why it did not open (retrying rarely helps). */
async function opened(adapter: Adapter & { open(): Promise<void> }, store: string): Promise<Adapter> {
  try {
    await adapter.open();
    return adapter;
  } catch (error) {
    await adapter.close().catch(() => {});
    const cause = (error as Error).cause;
    const why = cause instanceof Error ? cause.message.split("\n")[0] : (error as Error).message;
    throw new Error(`Cannot open the log store (${store}): ${why}`, { cause: error });
  }
}

/**
 * `text` as a canonical UTC ISO time, or undefined when it is none. Read as the observer reads its
 * time range: a time without a zone is UTC, as the store's times are (`Date` would read it in the
 * host's zone, and cut at another hour than the one the records show), and a time that names no
 * real one (February 30th, 24:00) or a year outside 1000–9999 is refused, not rolled over.
 */
export function utcTime(text: string): string | undefined {
  const t = filterTime(text);
  return t === undefined ? undefined : new Date(t).toISOString();
}

/**
 * A tail's records (newest first) with each stored record's folded parts where records of their own
 * would be: the store gives a record back followed by its parts, oldest first, and a part stored on
 * its own (`fold_parts = false`) is newer than its parent, the last part the newest. So a tail is
 * printed, cut at `--limit` and followed alike whether parts were folded or not.
 */
export function newestFirst(records: readonly StoredEvent[]): StoredEvent[] {
  const out: StoredEvent[] = [];
  let start = 0;
  for (let i = 1; i <= records.length; i++) {
    const head = records[start]!;
    const r = records[i];
    // A folded part follows its record and shares its id (and its time and parent where there is no id).
    if (r && r.parent === head.event && r.id === head.id && r.at === head.at) continue;
    for (let k = i - 1; k >= start; k--) out.push(records[k]!);
    start = i;
  }
  return out;
}

/** `store` whose tail reads are {@link newestFirst}. */
function inTailOrder(store: LogStore): LogStore {
  return { ...store, tail: async (filter) => newestFirst(await store.tail(filter)) };
}

async function withStore<T>(config: Config, work: (store: LogStore) => Promise<T>): Promise<T> {
  if (config.logstore.store === "admin") {
    // The records are the admin role's: read them through its adminLogsBroker.
    const client = await loggingIn(config.amqp, () =>
      BedsClient.connect({
        amqp: config.amqp,
        name: "beds logs",
        exchange: adminExchangeName(config.amqp.exchange),
      }));
    try {
      return await work(inTailOrder(
        createAmqpLogStore({
          client,
          maxBodyBytes: config.limits.max_body_bytes,
          maxReadLimit: config.limits.max_read_limit,
        }),
      ));
    } finally {
      await client.close();
    }
  }
  const adapter = await openAdapter(config);
  try {
    const template = await loadLogStoreTemplate({
      dir: resolvePath(config.configDir, config.logstore.templates_dir),
      store: adapter.store,
      database: config.logstore.database,
    });
    return await work(inTailOrder(createLogStore({ adapter, template })));
  } finally {
    await adapter.close();
  }
}

function limitOf(text: string | undefined): number {
  return integerFlag("limit", text, { min: 1, max: 10000 }) ?? 50;
}

function oneOf(name: string, value: string | undefined, allowed: string[]): string | undefined {
  if (value !== undefined && !allowed.includes(value)) {
    throw new UsageError(`Option --${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value;
}

/** A text filter no longer than its column: no stored value is, and MariaDB refuses a longer one. */
function fitting(name: keyof typeof TAIL_FILTER_WIDTHS, value: string | undefined): string | undefined {
  const width = TAIL_FILTER_WIDTHS[name];
  const length = value === undefined ? 0 : [...value].length;
  if (length > width) {
    throw new UsageError(
      `Option --${name} must be at most ${width} characters (no stored ${name} is longer), got ${length}`,
    );
  }
  return value;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });

/** Prints recent log records, or one chain as a tree. */
export async function logsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    node: { type: "string" },
    level: { type: "string" },
    kind: { type: "string" },
    template: { type: "string" },
    code: { type: "string" },
    since: { type: "string" },
    limit: { type: "string" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
  });
  const [action, ...rest] = positionals;
  if (values.help) {
    io.out(LOGS_USAGE);
    return 0;
  }
  const print = (records: StoredEvent[]) => {
    for (const r of records) io.out(values.json ? JSON.stringify(r) : printable(formatTailLine(r)));
  };

  if (action === "chain") {
    // Tail's filters would be taken and ignored: a chain is every record of it.
    refuseOtherFlags("beds logs chain", values, ["json"]);
    const id = rest[0];
    if (!id || rest.length > 1) throw new UsageError(`Usage: ${LOGS_USAGE}`);
    if (!EVENT_ID_PATTERN.test(id)) throw new UsageError(`"${id}" is not an event id`);
    const config = configFrom(values, io);
    const { records, cut } = await withStore(config, (store) => store.chain(id));
    if (!records.length) {
      io.err(`beds: no records for the chain of ${id}`);
      return 1;
    }
    if (values.json) print(records);
    else for (const line of renderChainTree(buildChainTree(records))) io.out(printable(line));
    // Last, where it is seen after a long tree; on stderr, so that --json stays records only.
    if (cut) {
      const limit = CHAIN_LIMIT.toLocaleString("en");
      io.err(
        `beds: the chain of ${id} has more than ${limit} records: printed are the oldest ${limit}, ` +
          `and ${id} with the records it extends`,
      );
    }
    return 0;
  }

  if (action !== "tail" || rest.length) throw new UsageError(`Usage: ${LOGS_USAGE}`);
  const since = values.since === undefined ? undefined : utcTime(values.since);
  if (since === undefined && values.since !== undefined) {
    throw new UsageError(
      `Option --since must be an ISO time such as 2026-11-29T21:00 (UTC unless it names a zone), ` +
        `a real day and hour in the years 1000–9999, got "${values.since}"`,
    );
  }
  const filter: TailFilter = {
    node: fitting("node", values.node),
    level: oneOf("level", values.level, LEVELS),
    kind: oneOf("kind", values.kind, KINDS),
    template: fitting("template", values.template),
    code: fitting("code", values.code),
    since,
    limit: limitOf(values.limit),
  };
  const config = configFrom(values, io);
  if (values.follow) io.handleSignals?.();
  await withStore(config, async (store) => {
    // The store counts stored records, and a fan-out's folded parts are records of their own here.
    const limit = filter.limit ?? 50;
    if (config.logstore.store === "mongodb") {
      // No insertion ids to follow: go on from the newest time seen, reading back over the lag.
      const page = await store.tail({
        ...filter,
        limit: values.follow ? Math.max(limit, FOLLOW_PAGE) : limit,
      });
      const mark: FollowMark = { seen: new Map(), lagMs: followLagMs(config.logstore.flush_ms) };
      // What the page holds past the records printed is older than them: seen, not stored late.
      unseen(page.slice(limit), mark);
      print(unseen(page.slice(0, limit), mark));
      while (values.follow && !io.signal.aborted) {
        await wait(Math.max(config.logstore.flush_ms, 500), io.signal);
        if (io.signal.aborted) break;
        print(
          unseen(
            await store.tail({ ...filter, since: followSince(mark, filter.since), limit: FOLLOW_PAGE }),
            mark,
          ),
        );
      }
      return;
    }
    const first = (await store.tail(filter)).slice(0, limit);
    print([...first].reverse());
    let after = newestId(first, 0);
    while (values.follow && !io.signal.aborted) {
      await wait(Math.max(config.logstore.flush_ms, 500), io.signal);
      if (io.signal.aborted) break;
      const next = await storedAfter(store, filter, after);
      print(next);
      after = newestId(next, after);
    }
  });
  return 0;
}
