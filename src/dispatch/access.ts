/**
 * Access control: which AMQP user may run which `<op>.<template>`, and who
 * may send admin commands. The only identity BEDS trusts is the message's
 * `user_id` property, because RabbitMQ refuses a publish whose `user_id` is
 * not the user the connection logged in as. Pure: no I/O, no clock.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import type { AccessConfig, Op } from "../config/mod.ts";

/** The access decisions of one node, built once from config. */
export interface AccessPolicy {
  /** False when `[access] enabled` is off: everyone may do everything. */
  readonly enabled: boolean;
  /** The node's own AMQP user, which stamps the copies it republishes (retries, dead letters). */
  readonly nodeUser: string;
  /**
   * Throws `FORBIDDEN` unless `user` is granted `<op>.<template>`; with `byName`, only by a grant
   * that names the template (`*.<template>` or `<op>.<template>`), not by `<op>.*` or `*.*`.
   * @throws {BedsError} FORBIDDEN
   */
  check(user: string | undefined, op: Op, template: string, byName?: boolean): void;
  /** True when `user` may send admin commands (always, when access control is off). */
  mayAdminister(user: string | undefined): boolean;
}

/** Options for {@link createAccessPolicy}. */
export interface AccessPolicyOptions {
  /** The `[access]` section. */
  config: AccessConfig;
  /** The AMQP user the node itself logs in as. */
  nodeUser: string;
}

/** A parsed grant: each word literal or `*`. */
interface Grant {
  op: string;
  template: string;
}

function parseGrant(pattern: string): Grant {
  const [op = "", template = ""] = pattern.split(".");
  return { op, template };
}

function covers(grant: Grant, op: Op, template: string, byName = false): boolean {
  return (grant.op === "*" || grant.op === op) &&
    ((grant.template === "*" && !byName) || grant.template === template);
}

/** True when grant `pattern` (`<op|*>.<template|*>`) covers `op` on `template`. */
export function grantMatches(pattern: string, op: Op, template: string): boolean {
  return covers(parseGrant(pattern), op, template);
}

/** Builds the policy; grants are parsed once, so a check is a few string compares. */
export function createAccessPolicy(options: AccessPolicyOptions): AccessPolicy {
  const { config, nodeUser } = options;
  const grants = new Map<string, readonly Grant[]>(
    Object.entries(config.users).map(([user, entry]) => [user, entry.allow.map(parseGrant)]),
  );
  const admins = new Set(config.admin_users);
  return {
    enabled: config.enabled,
    nodeUser,
    check(user, op, template, byName) {
      if (!config.enabled) return;
      if (user === undefined || user === "") {
        throw new BedsError("FORBIDDEN", "Request has no user_id: access control needs the publisher's user");
      }
      if (!grants.get(user)?.some((grant) => covers(grant, op, template, byName))) {
        throw new BedsError("FORBIDDEN", `User "${user}" may not ${op} template "${template}"`);
      }
    },
    mayAdminister(user) {
      return !config.enabled || (user !== undefined && admins.has(user));
    },
  };
}

/** An access policy whose grants a live reload replaces (`templates reload`, SIGHUP). */
export interface ReloadableAccessPolicy extends AccessPolicy {
  /**
   * Takes the grants of a newly loaded `[access]` section, for every check from then on. A
   * request already past its check keeps the answer it got.
   */
  replace(config: AccessConfig): void;
}

/** {@link createAccessPolicy} behind one reference that {@link ReloadableAccessPolicy.replace} swaps. */
export function createReloadableAccessPolicy(options: AccessPolicyOptions): ReloadableAccessPolicy {
  let current = createAccessPolicy(options);
  return {
    get enabled() {
      return current.enabled;
    },
    nodeUser: options.nodeUser,
    check: (user, op, template, byName) => current.check(user, op, template, byName),
    mayAdminister: (user) => current.mayAdminister(user),
    replace(config) {
      current = createAccessPolicy({ config, nodeUser: options.nodeUser });
    },
  };
}

/**
 * The user a delivery runs as. Normally its `user_id`. A copy the node
 * republished itself (a retry, or a dead letter replayed with the node's
 * credentials) has the node's own `user_id`, which only the node can set,
 * and carries the original requester in a header; a header on any other
 * message is ignored, so a client cannot claim another user with it.
 */
export function requesterOf(
  userId: string | undefined,
  headerUser: unknown,
  nodeUser: string | undefined,
): string | undefined {
  // An empty header is a copy of a request that had no user: it stays anonymous, never the node.
  if (userId !== undefined && userId === nodeUser && typeof headerUser === "string") {
    return headerUser === "" ? undefined : headerUser;
  }
  return userId;
}

/**
 * Why a replayed dead letter may not run, or undefined when it may. A replay names the letter's
 * requester in a header, which only a copy stamped with the nodes' own user can make believed:
 * replayed by anyone else, it would run as the replaying user, with that user's grants, whoever
 * sent it (a letter anyone may publish straight into a dead-letter queue). Only a letter of the
 * replaying user's own may then run.
 */
export function replayRefusal(
  replayedFrom: unknown,
  userId: string | undefined,
  headerUser: unknown,
  nodeUser: string | undefined,
): string | undefined {
  if (replayedFrom === undefined || userId === nodeUser || headerUser === userId) return undefined;
  const requester = typeof headerUser === "string" && headerUser !== "" ? `"${headerUser}"` : "no user";
  return `A dead letter of ${requester} replayed by "${userId ?? ""}": only the nodes' AMQP user replays ` +
    "a letter as its requester";
}
