import assert from "node:assert/strict";
import { deadLetterQueueArguments, rabbitmqMajor } from "../../src/amqp/topology.ts";

Deno.test("deadLetterQueueArguments() lifts a quorum DLQ's delivery limit on RabbitMQ 4, nowhere else", async (t) => {
  await t.step("quorum on 4.x: x-delivery-limit -1 (else the default of 20 deletes listed letters)", () => {
    assert.deepEqual(deadLetterQueueArguments("quorum", 4), {
      "x-queue-type": "quorum",
      "x-delivery-limit": -1,
    });
    assert.deepEqual(deadLetterQueueArguments("quorum", 5), {
      "x-queue-type": "quorum",
      "x-delivery-limit": -1,
    });
  });
  await t.step(
    "quorum on 3.x or an unknown server: no limit set (-1 there deletes a letter given back)",
    () => {
      assert.deepEqual(deadLetterQueueArguments("quorum", 3), { "x-queue-type": "quorum" });
      assert.deepEqual(deadLetterQueueArguments("quorum", undefined), { "x-queue-type": "quorum" });
    },
  );
  await t.step("classic: no delivery limit to lift", () => {
    assert.deepEqual(deadLetterQueueArguments("classic", 4), { "x-queue-type": "classic" });
  });
});

Deno.test("rabbitmqMajor() reads the major version of RabbitMQ only", () => {
  assert.equal(rabbitmqMajor({ product: "RabbitMQ", version: "3.10.8" }), 3);
  assert.equal(rabbitmqMajor({ product: "RabbitMQ", version: "4.1.0" }), 4);
  assert.equal(rabbitmqMajor({ product: "RabbitMQ", version: "4.2.0-rc.1" }), 4);
  assert.equal(rabbitmqMajor({ product: "LavinMQ", version: "4.0.0" }), undefined);
  assert.equal(rabbitmqMajor({ product: "RabbitMQ", version: "" }), undefined);
  assert.equal(rabbitmqMajor(undefined), undefined);
});
