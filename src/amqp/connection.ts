/**
 * Opens AMQP connections from config: Nagle off (`noDelay`), heartbeat,
 * connect timeout and TLS. The password is never part of a logged string.
 *
 * @module
 */
import amqp from "amqplib";
import type { AmqpConfig } from "../config/mod.ts";
import { tlsOptions } from "../tls.ts";

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
}

/** Opens one AMQP connection. */
export function connectAmqp(config: AmqpConfig, options: ConnectOptions = {}): Promise<AmqpConnection> {
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
  return amqp.connect(target, socket);
}
