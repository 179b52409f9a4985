/**
 * Real RabbitMQ users for one test, made and removed with rabbitmqctl.
 *
 * @module
 */
import type { AmqpConfig } from "../../src/config/mod.ts";

async function rabbitmqctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("rabbitmqctl", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) || new TextDecoder().decode(out.stdout);
    throw new Error(`rabbitmqctl ${args[0]} failed: ${text.trim()}`);
  }
}

/** A RabbitMQ user that exists until `drop()`. */
export interface AmqpTestUser {
  user: string;
  password: string;
  /** `base` with this user's login. */
  amqp(base: AmqpConfig): AmqpConfig;
  drop(): Promise<void>;
}

/** What a test user may touch on vhost "/" (RabbitMQ permission regexes). */
export interface AmqpPermissions {
  configure: string;
  write: string;
  read: string;
}

/** Creates `user` with `password` and the given permissions on vhost "/". */
export async function createAmqpUser(
  user: string,
  password: string,
  permissions: AmqpPermissions = { configure: ".*", write: ".*", read: ".*" },
): Promise<AmqpTestUser> {
  await rabbitmqctl("add_user", user, password);
  try {
    await rabbitmqctl(
      "set_permissions",
      "-p",
      "/",
      user,
      permissions.configure,
      permissions.write,
      permissions.read,
    );
  } catch (error) {
    await rabbitmqctl("delete_user", user).catch(() => {});
    throw error;
  }
  return {
    user,
    password,
    amqp: (base) => ({ ...base, url: undefined, user, pass: password }),
    drop: () => rabbitmqctl("delete_user", user).catch(() => {}),
  };
}

/** Permissions to publish to `exchange` (and its admin exchange) and read replies, nothing more. */
export function clientPermissions(exchange: string): AmqpPermissions {
  const escaped = exchange.replaceAll(".", "\\.");
  return { configure: "^$", write: `^${escaped}(\\.admin)?$`, read: "^amq\\.rabbitmq\\.reply-to$" };
}
