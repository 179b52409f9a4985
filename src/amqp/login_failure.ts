/**
 * A failed AMQP login in words an operator can act on: where, as whom, and
 * what to check. amqplib's own messages name neither the host, the vhost nor
 * the user, and for a refused vhost not even the reason. `beds check`,
 * `beds run` and every CLI command that connects say it alike.
 *
 * @module
 */
import type { AmqpConfig } from "../config/mod.ts";
import { describeTlsError } from "../tls.ts";
import { amqpUser, describeAmqp } from "./connection.ts";

/**
 * RabbitMQ answers the open of a vhost that does not exist, or that the user has no permissions on,
 * by closing the connection; amqplib's message says only that, without the server's reason.
 */
const VHOST_REFUSED = /^Expected ConnectionOpenOk; got <ConnectionClose/;

/** RabbitMQ refused the credentials (amqplib 2.3.1, `lib/connection.js`, during the handshake). */
const LOGIN_REFUSED = /^Handshake terminated by server: 403\b/;

/** The other failures amqplib's connect rejects with before the connection is open. */
const OPENING =
  /^(?:Expected Connection\w+; got |Handshake terminated by server|Socket closed abruptly during opening handshake|connect ETIMEDOUT$|SASL mechanism |Frame on channel != 0 during handshake|Expected connection\.secure)/;

function messageOf(error: unknown): string {
  return String((error as Error | null)?.message ?? error);
}

/** The vhost the config opens: `amqp.vhost`, or the URL's path (amqplib's rule: none is `/`). */
export function amqpVhost(config: AmqpConfig): string {
  if (!config.url) return config.vhost;
  let path: string;
  try {
    path = new URL(config.url).pathname.slice(1);
  } catch {
    return "(invalid url)";
  }
  try {
    return path ? decodeURIComponent(path) : "/";
  } catch {
    return path;
  }
}

/**
 * Whether `error` is one amqplib's connect fails with: the socket (refused, no such host, timed out),
 * TLS, or the AMQP handshake (credentials, vhost). An error of an open connection's channel is not.
 */
export function isAmqpLoginFailure(error: unknown): boolean {
  if (OPENING.test(messageOf(error)) || describeTlsError(error) !== undefined) return true;
  // node:net's errors of connect() and of the host name's look-up carry the call that failed.
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return syscall === "connect" || syscall === "getaddrinfo";
}

/** Why the AMQP login failed, in words that say what to check. */
function reason(error: unknown, config: AmqpConfig): string {
  const message = messageOf(error).split("\n")[0]!;
  if (VHOST_REFUSED.test(message)) {
    return `vhost "${amqpVhost(config)}" does not exist or user "${
      amqpUser(config)
    }" has no permissions on it: ` +
      "check amqp.vhost (or the URL's path) and the user's permissions";
  }
  if (LOGIN_REFUSED.test(message)) {
    return `user or password refused: check amqp.user and amqp.pass (or the URL's credentials); ${message}`;
  }
  return describeTlsError(error) ?? message;
}

/**
 * `AMQP login to HOST:PORT/VHOST as "USER" failed: REASON`, for any error of opening the connection.
 * Never the password: it names the user only.
 */
export function describeAmqpLoginFailure(error: unknown, config: AmqpConfig): string {
  return `AMQP login to ${describeAmqp(config)} as "${amqpUser(config)}" failed: ${reason(error, config)}`;
}
