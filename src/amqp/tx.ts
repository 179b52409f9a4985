/**
 * AMQP transactions on a channel (class `tx`), which amqplib sends through its raw request-and-answer
 * call but does not name in its API. What a transactional channel publishes and acks takes effect at
 * {@link commitTx}, all of it or, if the channel closes first, none.
 *
 * @module
 */
import type { AmqpChannel } from "./connection.ts";

/** The `tx` methods (class 90, method ids 10/11 and 20/21), as amqplib numbers them. */
const TX = { select: 5898250, selectOk: 5898251, commit: 5898260, commitOk: 5898261 } as const;

/** A channel's raw request-and-answer call, which amqplib has and does not type. */
type RpcChannel = { rpc(method: number, fields: object, expect: number): Promise<unknown> };

/** Puts the channel in transaction mode (`tx.select`). */
export async function selectTx(channel: AmqpChannel): Promise<void> {
  await (channel as unknown as RpcChannel).rpc(TX.select, {}, TX.selectOk);
}

/**
 * Commits what the channel published and acked since its last commit. RabbitMQ sends the
 * `basic.return` of a copy no queue took before the `tx.commit-ok`, so it has been seen when this
 * resolves. A channel that closes before RabbitMQ took the commit has the transaction discarded;
 * one lost after may have it committed without the commit-ok: all of it, either way.
 */
export async function commitTx(channel: AmqpChannel): Promise<void> {
  await (channel as unknown as RpcChannel).rpc(TX.commit, {}, TX.commitOk);
}
