import assert from "node:assert/strict";
import { describeAmqpLoginFailure, isAmqpLoginFailure } from "../../src/amqp/login_failure.ts";
import type { AmqpConfig } from "../../src/config/mod.ts";

Deno.test("describeAmqpLoginFailure() names the host, vhost and user and says what to check", async (t) => {
  const config = {
    url: "amqp://beds:S3cret@mq.internal:5672/shop",
  } as AmqpConfig;
  await t.step("a vhost refused", () => {
    const error = new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>");
    assert.ok(isAmqpLoginFailure(error));
    assert.equal(
      describeAmqpLoginFailure(error, config),
      'AMQP login to mq.internal:5672/shop as "beds" failed: vhost "shop" does not exist or user "beds" ' +
        "has no permissions on it: check amqp.vhost (or the URL's path) and the user's permissions",
    );
  });
  await t.step("credentials refused", () => {
    const error = new Error(
      'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
    );
    assert.ok(isAmqpLoginFailure(error));
    const text = describeAmqpLoginFailure(error, config);
    assert.match(text, /^AMQP login to mq\.internal:5672\/shop as "beds" failed: user or password refused: /);
    assert.match(text, /ACCESS.REFUSED/);
    assert.ok(!text.includes("S3cret"));
  });
  await t.step("a socket that does not connect", () => {
    const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
      syscall: "connect",
    });
    assert.ok(isAmqpLoginFailure(error));
    assert.equal(
      describeAmqpLoginFailure(error, config),
      'AMQP login to mq.internal:5672/shop as "beds" failed: connect ECONNREFUSED 127.0.0.1:1',
    );
  });
  await t.step("an open connection's channel error is not a login failure", () => {
    assert.ok(!isAmqpLoginFailure(new Error("Channel closed by server: 404 (NOT-FOUND)")));
    assert.ok(!isAmqpLoginFailure(new Error("Connection closed: 320 (CONNECTION-FORCED)")));
  });
});
