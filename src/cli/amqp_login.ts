/**
 * The one way CLI commands open AMQP: a failed login is said as `beds check`
 * says it (host, vhost, user and what to check), whichever command connects
 * and through whichever library call.
 *
 * @module
 */
import type { AmqpConfig } from "../config/mod.ts";
import { describeAmqpLoginFailure, isAmqpLoginFailure } from "../amqp/login_failure.ts";

/**
 * Runs `connect` (anything that opens a connection to `config` first); a failure to open it is
 * rethrown in words, any other error as it is.
 */
export async function loggingIn<T>(config: AmqpConfig, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    if (!isAmqpLoginFailure(error)) throw error;
    throw new Error(describeAmqpLoginFailure(error, config), { cause: error });
  }
}
