/**
 * Opens AMQP connections from config: Nagle off (`noDelay`), heartbeat,
 * connect timeout and TLS, and the frames of one flush sent in one socket
 * write (see {@link coalesceWrites}). The password is never part of a logged
 * string.
 *
 * @module
 */
import amqp from "amqplib";
import type { AmqpConfig } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import { tlsOptions } from "../tls.ts";
import { guardIncomingFrames } from "./frame_guard.ts";

/** An open AMQP connection (amqplib's channel model). */
export type AmqpConnection = amqp.ChannelModel;
/** A channel. */
export type AmqpChannel = amqp.Channel;
/** A channel with publisher confirms. */
export type AmqpConfirmChannel = amqp.ConfirmChannel;
/** A delivered message. */
export type AmqpMessage = amqp.ConsumeMessage;
/** Any received message (consumed or fetched with basic.get). */
export type AmqpAnyMessage = amqp.Message;
/** Properties of a published message. */
export type PublishOptions = amqp.Options.Publish;

/** `host:port/vhost` of the config, for logs (never the credentials). */
export function describeAmqp(config: AmqpConfig): string {
  if (config.url) {
    try {
      const url = new URL(config.url);
      return `${url.hostname}:${url.port || (url.protocol === "amqps:" ? 5671 : 5672)}${url.pathname || "/"}`;
    } catch {
      return "(invalid url)";
    }
  }
  return `${config.host}:${config.port}${config.vhost.startsWith("/") ? "" : "/"}${config.vhost}`;
}

/**
 * The user the config logs in as: `amqp.user`, or the URL's user when `url`
 * is set (amqplib's rule: a URL without credentials logs in as guest).
 * Clients put it in `user_id`, which RabbitMQ checks against the login.
 */
export function amqpUser(config: AmqpConfig): string {
  if (!config.url) return config.user;
  try {
    const url = new URL(config.url);
    return url.username || url.password ? decodeURIComponent(url.username) : "guest";
  } catch {
    return config.user;
  }
}

/** Host and port the config points at, for reachability checks. */
export function amqpEndpoint(config: AmqpConfig): { host: string; port: number } {
  if (config.url) {
    const url = new URL(config.url);
    return {
      host: url.hostname,
      port: Number(url.port) || (url.protocol === "amqps:" ? 5671 : 5672),
    };
  }
  return { host: config.host, port: config.port };
}

/** Options for {@link connectAmqp}. */
export interface ConnectOptions {
  /** Connection name shown in the RabbitMQ management UI. */
  name?: string;
  /** Told (at debug, once per process) when the write-coalescing hook cannot be installed. */
  logger?: Pick<Logger, "debug">;
  /**
   * Bodies of messages received past this many bytes reach amqplib cut to their first
   * `maxBodyBytes` (see {@link guardIncomingFrames}): a node's `[limits] max_body_bytes`, which
   * bounds its memory per delivery whatever RabbitMQ lets a publisher send. @default no limit
   */
  maxBodyBytes?: number;
}

/** The parts of amqplib's internals the hook touches (amqplib 2.3.1, `lib/mux.js`). */
interface MuxInternals {
  out?: { cork?: () => void; uncork?: () => void };
  _readIncoming?: (() => void) & { coalesced?: true };
}

function muxerOf(model: AmqpConnection): MuxInternals | undefined {
  return (model as unknown as { connection?: { muxer?: MuxInternals } }).connection?.muxer;
}

/**
 * Makes the frames amqplib flushes in one go leave in one socket write.
 *
 * Why: amqplib's frame multiplexer (`Mux#_readIncoming`) drains every
 * channel's frame queue with one `socket.write` per frame. Under Deno's
 * `node:net` each of those is its own write to the socket, and socket writes
 * were about 45 % of a node's busy time in the bench's profile. Corking the
 * socket for the length of one drain hands the whole batch (the replies and
 * acks of every delivery handled in that event-loop turn) to the kernel in
 * one write. Measured with `lab/bench/cork_check.ts`: the raw echo went from
 * 36–40 to 26 µs of CPU per round trip; a BEDS node from 143–174 to 119–125
 * µs per single-row read (see lab/README.md, "Benchmarks").
 *
 * It reaches into amqplib internals (`connection.muxer`, its `out` stream and
 * `_readIncoming`), which no public API exposes. When they are missing (a
 * different amqplib), it changes nothing and returns false; amqplib then
 * works as before, only with more writes. `tests/integration/amqp_cork_test.ts`
 * fails if the hook stops applying to the pinned amqplib.
 *
 * @returns true when the hook is in place (also when it already was).
 */
export function coalesceWrites(model: AmqpConnection): boolean {
  const mux = muxerOf(model);
  const out = mux?.out;
  const drain = mux?._readIncoming;
  if (!mux || typeof out?.cork !== "function" || typeof out.uncork !== "function") return false;
  if (typeof drain !== "function") return false;
  if (drain.coalesced) return true;
  const cork = out.cork.bind(out);
  const uncork = out.uncork.bind(out);
  const corked = function (this: unknown) {
    cork();
    try {
      drain.call(this);
    } finally {
      uncork();
    }
  } as NonNullable<MuxInternals["_readIncoming"]>;
  corked.coalesced = true;
  mux._readIncoming = corked;
  return true;
}

/** Whether {@link coalesceWrites} is in place on `model`. */
export function writesCoalesced(model: AmqpConnection): boolean {
  return muxerOf(model)?._readIncoming?.coalesced === true;
}

// Once per process: a changed amqplib would otherwise repeat the note on every (re)connection.
let missingHookNoted = false;
let missingGuardNoted = false;

/**
 * Opens one AMQP connection, its writes coalesced per flush and its incoming frames guarded
 * ({@link guardIncomingFrames}: large header tables dropped, bodies past `maxBodyBytes` cut) where
 * amqplib allows.
 */
export async function connectAmqp(config: AmqpConfig, options: ConnectOptions = {}): Promise<AmqpConnection> {
  const tls = config.tls ? tlsOptions(config.tls) : undefined;
  const socket = {
    noDelay: true,
    timeout: config.connect_timeout_ms,
    clientProperties: { connection_name: options.name ?? "beds" },
    ...tls,
  };
  const target: string | amqp.Options.Connect = config.url ?? {
    protocol: tls ? "amqps" : "amqp",
    hostname: config.host,
    port: config.port,
    username: config.user,
    password: config.pass,
    vhost: config.vhost,
    heartbeat: config.heartbeat,
  };
  const model = await amqp.connect(target, socket);
  watchAnswers(model);
  if (
    !guardIncomingFrames(model, { maxBodyBytes: options.maxBodyBytes }) && options.logger &&
    !missingGuardNoted
  ) {
    missingGuardNoted = true;
    options.logger.debug(
      "amqplib internals changed (no connection.stream.read): incoming frames are not guarded",
    );
  }
  if (!coalesceWrites(model) && options.logger && !missingHookNoted) {
    missingHookNoted = true;
    options.logger?.debug(
      "amqplib internals changed (no connection.muxer._readIncoming): frames are written one by one",
    );
  }
  return model;
}

/**
 * Drops the socket under a connection whose close got no answer (a network gone silent). amqplib
 * has no call for it and would wait for a missed heartbeat, or forever without heartbeats; the
 * error makes it close the connection as on any socket error (amqplib 2.3.1: `connection.stream`).
 */
export function dropSocket(connection: AmqpConnection): void {
  const internals = connection as unknown as { connection?: { stream?: { destroy(error?: Error): void } } };
  internals.connection?.stream?.destroy(new Error("No answer to the close"));
}

/** How long a close waits for RabbitMQ's answer (see {@link answeredBy}). */
export const CLOSE_TIMEOUT_MS = 2000;

/** What tells a close waiting on a connection that no answer will come (see {@link answeredBy}). */
interface AnswerWatch {
  blocked: boolean;
  closed: boolean;
  waiting: Set<() => void>;
}

// Kept per connection, not per close: the closes of every consumer of a node at once, each with its
// own listeners, would pass the emitter's listener limit (and its warning).
const answerWatches = new WeakMap<AmqpConnection, AnswerWatch>();

function watchAnswers(model: AmqpConnection): void {
  const watch: AnswerWatch = { blocked: false, closed: false, waiting: new Set() };
  const wake = () => {
    for (const giveUp of watch.waiting) giveUp();
  };
  model.on("blocked", () => {
    watch.blocked = true;
    wake();
  });
  model.on("unblocked", () => watch.blocked = false);
  model.on("close", () => {
    watch.closed = true;
    wake();
  });
  answerWatches.set(model, watch);
}

/** Whether RabbitMQ blocks `connection` now (a resource alarm): it reads nothing from it. */
export function connectionBlocked(connection: AmqpConnection): boolean {
  return answerWatches.get(connection)?.blocked ?? false;
}

/**
 * Waits for `close` (of a channel of `connection`, or of the connection) until `deadline` (a
 * `Date.now()` time) at most, and not at all while RabbitMQ blocks the connection: it then reads
 * nothing, the close included, for as long as its resource alarm lasts. No longer than the
 * connection lives either: amqplib never completes the close of a channel whose connection is gone.
 * A shutdown that awaited such a close would never reach the drain's deadline, nor exit.
 * @returns true when the close was answered in time.
 */
export async function answeredBy(
  connection: AmqpConnection,
  close: Promise<unknown>,
  deadline: number,
): Promise<boolean> {
  let answered = false;
  const done = close.then(() => answered = true, () => {});
  const watch = answerWatches.get(connection);
  if (watch?.blocked || watch?.closed) return false;
  let giveUp = () => {};
  const gaveUp = new Promise<void>((resolve) => giveUp = resolve);
  const timer = setTimeout(giveUp, Math.max(0, deadline - Date.now()));
  watch?.waiting.add(giveUp);
  try {
    await Promise.race([done, gaveUp]);
  } finally {
    clearTimeout(timer);
    watch?.waiting.delete(giveUp);
  }
  return answered;
}

/**
 * Closes `connection` (see {@link answeredBy}), then drops its socket whatever the answer. amqplib
 * leaves the socket half-closed when it gives up on the answer (at once while RabbitMQ blocks the
 * connection) and open when none comes, and either keeps the process alive until RabbitMQ reads
 * again. After an answer RabbitMQ is closing the socket anyway.
 */
export async function closeConnection(
  connection: AmqpConnection,
  timeoutMs = CLOSE_TIMEOUT_MS,
): Promise<void> {
  await answeredBy(connection, connection.close(), Date.now() + timeoutMs);
  dropSocket(connection);
}
