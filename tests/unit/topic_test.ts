import assert from "node:assert/strict";
import { topicMatches } from "../../src/amqp/mod.ts";

Deno.test("topicMatches() routes as a RabbitMQ topic exchange does", () => {
  const cases: Array<[string, string, boolean]> = [
    ["create.*", "create.cus", true],
    ["create.*", "read.cus", false],
    ["*.cus", "update.cus", true],
    ["*.*", "node.app-1", true],
    ["create.*", "create.cus.x", false],
    ["create.*", "create", false],
    ["#", "anything.at.all", true],
    ["#", "", true],
    ["#.cus", "read.cus", true],
    ["#.cus", "cus", true],
    ["read.#", "read", true],
    ["read.#.x", "read.a.b.x", true],
    ["read.#.x", "read.a.b.y", false],
    ["read.cus", "read.cus", true],
    ["read.cus", "read.cuss", false],
  ];
  for (const [pattern, key, expected] of cases) {
    assert.equal(topicMatches(pattern, key), expected, `${pattern} ~ ${key}`);
  }
});
