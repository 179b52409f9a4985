import assert from "node:assert/strict";
import { workQueueName } from "../../src/amqp/names.ts";

Deno.test("workQueueName() is <prefix><role>.<broker>", async (t) => {
  await t.step("without a prefix", () => {
    assert.equal(workQueueName("", "appServer", "rBroker"), "appServer.rBroker");
  });
  await t.step("with a prefix", () => {
    assert.equal(workQueueName("qa.", "appServer", "wBroker"), "qa.appServer.wBroker");
  });
  await t.step("different roles get different queues for the same broker", () => {
    assert.notEqual(workQueueName("", "appServer", "rBroker"), workQueueName("", "admin", "rBroker"));
  });
});
