import assert from "node:assert/strict";
import {
  adminQueueName,
  brokerQueueNames,
  deadLetterQueueName,
  retryQueueName,
} from "../../src/amqp/names.ts";
import { createReplyTargets } from "../../src/brokers/reply_targets.ts";
import type { Logger } from "../../src/logging/mod.ts";

const ROLES = {
  appServer: { brokers: ["rBroker", "wBroker"] },
  admin: { brokers: ["adminLogsBroker"] },
  gateway: { brokers: [] },
};

function targets(queuePrefix: string, warnEveryMs?: number, clock = { t: 0 }) {
  const warned: Record<string, unknown>[] = [];
  const logger = { warn: (fields: Record<string, unknown>) => warned.push(fields) } as unknown as Logger;
  const t = createReplyTargets({ queuePrefix, roles: ROLES, logger, warnEveryMs, now: () => clock.t });
  return { t, warned, clock };
}

Deno.test("brokerQueueNames() names a work queue, its ten delay tiers and its dead-letter queue", () => {
  const names = brokerQueueNames("p.appServer.wBroker");
  assert.equal(names.length, 12);
  assert.equal(names[0], "p.appServer.wBroker");
  assert.ok(names.includes(retryQueueName("p.appServer.wBroker", 0)));
  assert.ok(names.includes("p.appServer.wBroker.retry.10"));
  assert.equal(names.at(-1), deadLetterQueueName("p.appServer.wBroker"));
});

Deno.test("createReplyTargets() refuses BEDS's own queues as reply_to", async (t) => {
  for (const prefix of ["", "qa."]) {
    const { t: targets_ } = targets(prefix);
    await t.step(`work, delay and dead-letter queues of every role (prefix "${prefix}")`, () => {
      for (
        const [role, broker] of [["appServer", "rBroker"], ["appServer", "wBroker"], [
          "admin",
          "adminLogsBroker",
        ]]
      ) {
        const work = `${prefix}${role}.${broker}`;
        for (const queue of [work, `${work}.retry.1`, `${work}.retry.3`, `${work}.retry.10`, `${work}.dlq`]) {
          assert.equal(targets_.allows(queue), false, queue);
        }
      }
    });
    await t.step(`every node's admin queue (prefix "${prefix}")`, () => {
      assert.equal(targets_.allows(adminQueueName(prefix, "web-1")), false);
      assert.equal(targets_.allows(adminQueueName(prefix, "host.example.com-42")), false);
    });
    await t.step(`direct reply-to and a client's own queues (prefix "${prefix}")`, () => {
      for (
        const queue of [
          "amq.rabbitmq.reply-to",
          "amq.rabbitmq.reply-to.g1h2AA5yZXR0ZXJAaG9zdAAAAAAAAAAA.abc",
          "amq.gen-JzTY20BRgKO-HjmUJj0wLg",
          "shop_web.replies",
          `${prefix}appServer.rBroker.mine`,
          `${prefix}appServer.mBroker`, // a broker the config does not give that role
          `${prefix}appServer.rBroker.retry.11`,
        ]
      ) {
        assert.equal(targets_.allows(queue), true, queue);
      }
    });
  }
});

Deno.test("createReplyTargets() warns of refused replies at most once per interval, with their count", () => {
  const { t, warned, clock } = targets("qa.", 10_000);
  const refused = (event: string) =>
    t.refuse({ broker: "rBroker", event, user: "mallory", replyTo: "qa.appServer.rBroker" });
  refused("e1");
  assert.equal(warned.length, 1);
  assert.deepEqual(warned[0], {
    broker: "rBroker",
    event: "e1",
    user: "mallory",
    replyTo: "qa.appServer.rBroker",
    refused: 1,
  });
  for (let i = 0; i < 1000; i++) {
    clock.t += 5;
    refused(`f${i}`);
  }
  // 5 s of 1000 refusals: still the one line.
  assert.equal(warned.length, 1);
  clock.t += 5_000;
  refused("g");
  assert.equal(warned.length, 2);
  assert.equal(warned[1]!.refused, 1001);
  assert.equal(warned[1]!.event, "g");
});
