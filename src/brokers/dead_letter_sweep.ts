/**
 * Reading a dead-letter queue while it is held (see {@link hold}): the sweep `beds dlq` lists and
 * replays through, and the hold its purge takes. A queue that does not exist holds no letters; any
 * other failure to read one is an error, never an empty queue.
 *
 * @module
 */
import {
  type AmqpAnyMessage as AmqpMessage,
  type AmqpChannel,
  type AmqpConnection,
  commitTx,
  selectTx,
} from "../amqp/mod.ts";

/** Whether an AMQP error says the queue does not exist (404 NOT_FOUND), which holds no letters. */
export function missingQueue(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 404;
}

/** An error reading `queue`, named after it. */
function queueError(queue: string, error: unknown): Error {
  return new Error(`Dead-letter queue "${queue}" cannot be read: ${(error as Error).message}`, {
    cause: error,
  });
}

/** What a sweep's callback says: "stop" ends the sweep (the letters not taken stay untouched). */
export type SweepStep = void | "stop";

/** A letter a sweep took, with the channel it was taken on. */
export interface Taken {
  channel: AmqpChannel;
  /** Acks it (in the channel's transaction, if any); a letter not acked is given back. */
  ack(): void;
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** Stops the sweep before the next letter. */
  signal?: AbortSignal;
  /**
   * Puts the sweep's channel in an AMQP transaction (`tx.select`): what the callback publishes and
   * acks on it takes effect at {@link commitTx}, all of it or, if the channel closes first, none.
   */
  transactional?: boolean;
}

/** The error of a `beds dlq` that finds a DLQ held by another. */
export class QueueBusy extends Error {
  constructor(queue: string, cause?: unknown) {
    super(`Dead-letter queue "${queue}" is being read by another beds dlq; try again`, { cause });
  }
}

/** A DLQ held by this `beds dlq` (see {@link hold}). */
export interface Hold {
  /** What the hold's consumer was handed (one letter at most until it is acked), in order. */
  handed: AmqpMessage[];
  /** How many letters were ready once the queue was held. */
  ready: number;
  /** Stops the consumer: nothing more is handed to it, and the queue is free again. */
  release(): Promise<void>;
}

/**
 * Holds `queue` on `channel` for one `beds dlq`: an exclusive consumer with room for one letter.
 * Held, the queue's letters are all ready or in this hold's hands: without it, a sweep could not see
 * those another holds unacked (basic.get and the count take only ready ones), and would pass them
 * over. RabbitMQ refuses the consumer while another holds a classic queue, and drops it with its
 * channel. A quorum queue takes a second one: there, one found already (nodes never consume a
 * dead-letter queue) or a second once held (two that began together) means another holder. The one
 * letter the consumer is handed is read like the others (see {@link sweep}); it is handed no other
 * until that one is acked.
 * @throws when another holds the queue, or the error reading it (404: it does not exist).
 */
export async function hold(channel: AmqpChannel, queue: string): Promise<Hold> {
  if ((await channel.checkQueue(queue)).consumerCount > 0) throw new QueueBusy(queue);
  const handed: AmqpMessage[] = [];
  await channel.prefetch(1);
  const { consumerTag } = await channel
    .consume(queue, (msg) => msg && handed.push(msg), { exclusive: true, noAck: false })
    .catch((error: Error) =>
      Promise.reject(/in exclusive use/.test(error.message) ? new QueueBusy(queue, error) : error)
    );
  const release = () => channel.cancel(consumerTag).then(() => {});
  const { messageCount, consumerCount } = await channel.checkQueue(queue);
  if (consumerCount > 1) {
    await release();
    throw new QueueBusy(queue);
  }
  return { handed, ready: messageCount, release };
}

/**
 * Takes the messages `queue` holds when the sweep begins, unacked, hands them to `fn` with the
 * channel they were taken on, then gives back those not acked and closes the channel. The queue is
 * held meanwhile (see {@link hold}), and counted once held. Only those: what arrives meanwhile (a
 * replayed letter that failed again comes back under a new id) waits for the next sweep, or a
 * replay would go on for ever, running its writes again and again. They are given back with
 * `basic.nack` (requeue), not by closing the channel: from RabbitMQ 4.3 a quorum queue counts a
 * letter closed back against its delivery limit, and one nacked back not.
 * @throws when the queue cannot be read (a missing queue is read as empty), or another `beds dlq`
 * holds it.
 */
export async function sweep(
  connection: AmqpConnection,
  queue: string,
  fn: (msg: AmqpMessage, taken: Taken) => Promise<SweepStep>,
  { signal, transactional }: SweepOptions = {},
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  // A failure of `fn` is its own (a copy RabbitMQ refused): only the queue's own are named after it.
  const read = <T>(operation: Promise<T>) =>
    operation.catch((error) => Promise.reject(error instanceof QueueBusy ? error : queueError(queue, error)));
  let held: Hold | undefined;
  // The letters taken and not acked, in the order they were taken.
  const unacked = new Set<AmqpMessage>();
  try {
    held = await read(hold(channel, queue));
    if (transactional) await read(selectTx(channel));
    const { handed } = held;
    // The next letter: the one the consumer was handed first (the queue's head), then the ready
    // ones. Before calling the queue empty, a round trip lets a letter on its way to the consumer
    // arrive. The count takes in the one the consumer may hold.
    const next = async (): Promise<AmqpMessage | undefined> => {
      const msg = handed.shift() ?? await read(channel.get(queue, { noAck: false }));
      if (msg) return msg;
      await read(channel.checkQueue(queue));
      return handed.shift();
    };
    for (let left = held.ready + 1; left > 0 && !signal?.aborted; left--) {
      const msg = await next();
      if (!msg) break;
      unacked.add(msg);
      const ack = () => {
        unacked.delete(msg);
        channel.ack(msg);
      };
      if (await fn(msg, { channel, ack }) === "stop") break;
    }
  } catch (error) {
    if (!missingQueue((error as Error).cause)) throw error;
  } finally {
    await giveBack(channel, held, unacked, transactional);
  }
}

/**
 * Gives back the letters the sweep's channel holds unacked, once its consumer is handed no more,
 * and closes it. One by one and in the order they were taken: a quorum queue puts them back in the
 * order it is given them, and one `basic.nack` of all would give back those its consumer was handed
 * apart from those fetched.
 */
async function giveBack(
  channel: AmqpChannel,
  held: Hold | undefined,
  unacked: ReadonlySet<AmqpMessage>,
  transactional?: boolean,
) {
  try {
    await held?.release();
    // Then also a letter handed to the consumer and never taken (one that came back while the
    // sweep ran, or that arrived after a `--id` had found its letter): it is unacked too.
    const back = [...unacked, ...(held?.handed ?? [])];
    for (const msg of back) channel.nack(msg, false, true);
    // In a transaction the nacks too wait for a commit (a channel closed without one gives the
    // letters back all the same, but counted against a quorum queue's delivery limit).
    if (transactional && back.length) await commitTx(channel);
  } catch {
    // The channel is closed already: RabbitMQ gave the letters back itself.
  }
  await channel.close().catch(() => {});
}
