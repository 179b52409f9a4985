/**
 * Batched acknowledgements for one consumer channel: the deliveries done in
 * one turn of the event loop are acknowledged with a single `basic.ack`
 * (`multiple`) where they form an unbroken run from the oldest outstanding
 * delivery, and one by one otherwise.
 *
 * Why: every ack frame costs RabbitMQ (and amqplib) work of its own. With
 * many deliveries in flight, most finish in the order they came, so one
 * frame can settle a run of them. Measured on a plain amqplib echo at 32 in
 * flight: 3–14 % less RabbitMQ CPU per round trip; behind a node, RabbitMQ
 * up to a tenth less per read, the node's own CPU unchanged (lab/README.md,
 * "What each change bought").
 *
 * Safety: a multiple ack settles every outstanding delivery up to its tag,
 * so it is only sent for a run of deliveries that are all done. A delivery
 * that finishes behind one still running is acked on its own in the same
 * turn: it never waits for a slow neighbour, so a long request cannot hold
 * the channel's prefetch window full of finished deliveries. Acks are
 * queued in the turn their deliveries finish, before amqplib's multiplexer
 * drains that turn's frames, so they follow their replies in the same drain
 * (one socket write, with `coalesceWrites`): nothing is held longer than
 * the reply it follows.
 *
 * @module
 */
import type { AmqpChannel, AmqpMessage } from "../amqp/mod.ts";

/** The acknowledgements of one channel's deliveries. */
export interface Acks {
  /** Registers a delivery as it arrives, before it is handled. */
  received(msg: AmqpMessage): void;
  /** The delivery is done: its ack leaves with this turn's batch. */
  ack(msg: AmqpMessage): void;
  /** Rejects the delivery at once (`requeue`: back to the queue), outside any batch. */
  nack(msg: AmqpMessage, requeue: boolean): void;
  /** Sends the acks due now (also run by itself once per turn). */
  flush(): void;
  /** Deliveries received and not yet acked or rejected on the channel. */
  outstanding(): number;
  /** Deliveries the tracker still holds in memory (outstanding ones, and settled ones not yet dropped). */
  held(): number;
}

/** A delivery's state: being handled, done (its ack not sent yet), or acked or rejected. */
const RUNNING = 0;
const DONE = 1;
const SETTLED = 2;

/** Reports a failure to send an ack (the channel closed under it: RabbitMQ requeues the delivery). */
export type AckFailure = (error: unknown) => void;

/** Batches the acks of `channel`'s deliveries; `onError` hears of an ack that could not be sent. */
export function createAcks(channel: Pick<AmqpChannel, "ack" | "nack">, onError: AckFailure): Acks {
  // The deliveries not yet passed by the oldest unsettled one, in arrival order (so in ascending tag
  // order: tags only grow on a channel), as a ring of tags and states that grows by doubling and is
  // reused: nothing is allocated per delivery, so nothing lives long enough to reach the old
  // generation. Tags, not messages: a message's content is a view of the socket chunk it came in,
  // and holding finished messages kept those chunks alive (a node's RSS rose by a third over a
  // million reads).
  let capacity = 256;
  let tags = new Float64Array(capacity);
  let states = new Uint8Array(capacity);
  let start = 0;
  let count = 0;
  let open = 0;
  let scheduled = false;
  const at = (i: number) => (start + i) & (capacity - 1);

  const grow = () => {
    const moreTags = new Float64Array(capacity * 2);
    const moreStates = new Uint8Array(capacity * 2);
    for (let i = 0; i < count; i++) {
      moreTags[i] = tags[at(i)]!;
      moreStates[i] = states[at(i)]!;
    }
    tags = moreTags;
    states = moreStates;
    capacity *= 2;
    start = 0;
  };

  /** Where `tag` is in the ring, or -1: by bisection, as the tags ascend. */
  const find = (tag: number): number => {
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const value = tags[at(mid)]!;
      if (value === tag) return at(mid);
      if (value < tag) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };

  // amqplib's ack reads nothing of a message but its delivery tag.
  const ack = (deliveryTag: number, multiple: boolean) => {
    try {
      channel.ack({ fields: { deliveryTag } } as AmqpMessage, multiple);
    } catch (error) {
      onError(error);
    }
  };

  const flush = () => {
    scheduled = false;
    // The unbroken run of finished deliveries from the oldest: one multiple ack up to its last
    // unacked delivery (one settled alone is no longer outstanding, so it cannot be the tag).
    let last = -1;
    while (count > 0) {
      const state = states[start];
      if (state === RUNNING) break;
      if (state === DONE) {
        last = tags[start]!;
        open--;
      }
      start = (start + 1) & (capacity - 1);
      count--;
    }
    if (last >= 0) ack(last, true);
    // Finished behind a delivery still running: acked one by one, now.
    for (let i = 0; i < count; i++) {
      const slot = at(i);
      if (states[slot] !== DONE) continue;
      states[slot] = SETTLED;
      open--;
      ack(tags[slot]!, false);
    }
    if (count > 256 && count > 4 * open) {
      // A delivery held long at the head leaves settled ones piling up behind it: drop them, in place.
      let kept = 0;
      for (let i = 0; i < count; i++) {
        const slot = at(i);
        if (states[slot] === SETTLED) continue;
        const to = at(kept++);
        tags[to] = tags[slot]!;
        states[to] = states[slot]!;
      }
      count = kept;
    }
  };

  return {
    received(msg) {
      if (count === capacity) grow();
      const slot = at(count++);
      tags[slot] = msg.fields.deliveryTag;
      states[slot] = RUNNING;
      open++;
    },
    ack(msg) {
      const slot = find(msg.fields.deliveryTag);
      if (slot < 0 || states[slot] !== RUNNING) return;
      states[slot] = DONE;
      if (!scheduled) {
        scheduled = true;
        // A microtask runs before amqplib's multiplexer drains the turn's frames (in a later
        // immediate), so the ack follows its reply in the same drain.
        queueMicrotask(flush);
      }
    },
    nack(msg, requeue) {
      const slot = find(msg.fields.deliveryTag);
      if (slot < 0 || states[slot] !== RUNNING) return;
      states[slot] = SETTLED;
      open--;
      try {
        channel.nack(msg, false, requeue);
      } catch (error) {
        onError(error);
      }
    },
    flush,
    outstanding: () => open,
    held: () => count,
  };
}
