/**
 * The `logstore` IPL step's work: open the log store the config chose, add
 * its sink to the node's sinks, and flush it on unwind. Outside prod a log
 * store that cannot be opened is a warning and the node runs without one.
 * Also builds the IPL record that is written once the node is resident.
 *
 * @module
 */
import { type AdapterHealth, createMariadbAdapter, type MongodbAdapter } from "../adapters/mod.ts";
import { configDigest, resolvePath } from "../config/mod.ts";
import {
  createAmqpLogStore,
  createBatchWriter,
  createLogStore,
  createLogStoreSink,
  eventsIn,
  type IplEvent,
  loadLogStoreTemplate,
  type LogRow,
  type LogStore,
  LOGSTORE_INDEXES,
  rowSize,
} from "../logstore/mod.ts";
import { BedsError } from "../errors.ts";
import { BedsClientError } from "../client/mod.ts";
import type { IplContext } from "./context.ts";
import type { IplRecord, StepOutcome } from "./runner.ts";

/**
 * The text the buffer holds at most per event of `buffer_size` (UTF-16 units, by `rowSize`). A
 * record takes about 300 of them, a fan-out's with its parts folded in under 100 per event, so the
 * count bounds the buffer; the record of a request whose error echoed a long text a client sent
 * takes up to about 25,000 even clipped, and while the store is slow or down `buffer_size` of them
 * would hold a hundred times the memory of ordinary ones.
 */
const ROW_SIZE_PER_EVENT = 2048;

/**
 * Whether a failed write says the store is unreachable rather than the batch wrong: the database
 * down or its connection lost, or (admin store) the link to RabbitMQ gone or no confirm in time.
 */
export function storeUnreachable(error: unknown): boolean {
  if (error instanceof BedsError) return error.code === "DB_UNAVAILABLE" || error.code === "OVERLOADED";
  return error instanceof BedsClientError && error.kind !== "REFUSED";
}

/** Opens the configured log store and registers its sink in `ctx.sinks`. */
export async function openLogStore(ctx: IplContext): Promise<StepOutcome> {
  const settings = ctx.config.logstore;
  if (settings.store === "off") return { detail: "off: events are not recorded" };
  const store = settings.store;
  try {
    const { logStore, close, health } = store === "admin"
      ? { logStore: adminLogStore(ctx), close: undefined, health: undefined }
      : await databaseLogStore(ctx, store);
    const writer = createBatchWriter<LogRow>({
      write: (rows) => logStore.write(rows),
      batchSize: settings.batch_size,
      flushMs: settings.flush_ms,
      capacity: settings.buffer_size,
      maxSize: settings.buffer_size * ROW_SIZE_PER_EVENT,
      maxRetries: settings.max_retries,
      outageMs: settings.outage_ms,
      unavailable: storeUnreachable,
      weight: eventsIn,
      size: rowSize,
      onError: (error, info) =>
        ctx.logger.warn(
          { err: (error as Error).message, records: info.size, attempt: info.attempt, dropped: info.dropped },
          "log store write failed",
        ),
    });
    const sink = createLogStoreSink({
      writer,
      sampleRate: settings.sample_rate,
      foldParts: settings.fold_parts,
      newId: () => ctx.eventIds.next(),
      health,
    });
    ctx.sinks.push(sink);
    ctx.logstore = sink;
    return {
      detail: `${where(ctx)}, batches of ${settings.batch_size} records every ${settings.flush_ms} ms${
        settings.fold_parts ? ", fan-out parts folded" : ""
      }`,
      undo: async () => {
        const i = ctx.sinks.indexOf(sink);
        if (i >= 0) ctx.sinks.splice(i, 1);
        await writer.close();
        await close?.();
        const { dropped, written } = sink.stats();
        ctx.logger.info({ written, dropped }, "log store flushed");
      },
    };
  } catch (error) {
    const message = `Log store ${where(ctx)} unavailable: ${(error as Error).message}`;
    if (ctx.config.env === "prod") throw new Error(message, { cause: error });
    return { detail: "off", warnings: [`${message}; events are not recorded`] };
  }
}

function where(ctx: IplContext): string {
  const { store, database } = ctx.config.logstore;
  return store === "admin" ? "admin (over AMQP to adminLogsBroker)" : `${store} "${database}"`;
}

/** The log store in one of the node's own databases, its template checked against it. */
async function databaseLogStore(
  ctx: IplContext,
  store: "mariadb" | "mongodb",
): Promise<{ logStore: LogStore; close?: () => Promise<void>; health?: () => AdapterHealth }> {
  const settings = ctx.config.logstore;
  const shared = ctx.adapters.get(store);
  if (!shared) throw new Error(`store ${store} is not configured on this node`);
  const template = await loadLogStoreTemplate({
    dir: resolvePath(ctx.config.configDir, settings.templates_dir),
    store,
    database: settings.database,
  });
  // On MariaDB the batches go over a connection of their own. A batch keeps the server busy for
  // tens of milliseconds, and every request pipelined behind it on a shared connection would wait
  // that long (measured in lab/README.md, "The log store and the fan-out"). MongoDB's driver pools.
  const maria = ctx.config.databases.mariadb;
  const own = store === "mariadb" && maria
    ? createMariadbAdapter({
      config: { ...maria, master: { ...maria.master, connections: 1 }, secondary: undefined },
      logger: ctx.logger,
    })
    : undefined;
  try {
    await own?.open();
    const adapter = own ?? shared;
    // No DBA creates the MongoDB log collection: without it every record would fail the check below.
    if (store === "mongodb" && "ensureCollection" in adapter) {
      await (adapter as MongodbAdapter).ensureCollection(template, LOGSTORE_INDEXES);
    }
    const problems = (await adapter.verify([template])).filter((p) => p.severity === "error");
    if (problems.length) {
      const first = problems[0]!;
      throw new Error(`template "mst" ${first.path}: ${first.message}`);
    }
    return {
      logStore: createLogStore({ adapter, template }),
      close: own && (() => own.close()),
      health: own && (() => own.health()),
    };
  } catch (error) {
    await own?.close();
    throw error;
  }
}

/** The admin role's log store, reached through the node's admin link. */
function adminLogStore(ctx: IplContext): LogStore {
  if (!ctx.adminLink) throw new Error("the node has no admin link");
  return createAmqpLogStore({ client: ctx.adminLink, maxBodyBytes: ctx.config.limits.max_body_bytes });
}

/** The IPL record of a node as a log event. */
export function iplEvent(ctx: IplContext, record: IplRecord): IplEvent {
  return {
    kind: "ipl",
    event: ctx.eventIds.next(),
    at: new Date(ctx.startedAt).toISOString(),
    node: ctx.instance,
    role: ctx.role,
    env: ctx.config.env,
    ok: record.ok,
    ms: record.ms,
    steps: record.steps.map((s) => ({ ...s })),
    configDigest: configDigest(ctx.config),
  };
}
