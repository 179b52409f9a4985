import assert from "node:assert/strict";
import { describeTlsError, tlsOptions } from "../../src/tls.ts";
import { amqpUser } from "../../src/amqp/connection.ts";
import type { AmqpConfig } from "../../src/config/mod.ts";

function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("describeTlsError() names certificate failures in plain words", async (t) => {
  await t.step(
    "an untrusted chain names every cause Deno reports so: unknown CA, expired, not yet valid",
    () => {
      for (const code of ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN"]) {
        const text = describeTlsError(tlsError(code, "unable to verify the first certificate"));
        assert.equal(
          text,
          "TLS certificate not trusted: unknown CA, or expired, or not yet valid (check tls.ca and the server " +
            `certificate's dates): unable to verify the first certificate (${code})`,
        );
      }
    },
  );
  await t.step("a name mismatch is 'hostname does not match', with the driver's detail", () => {
    const text = describeTlsError(
      tlsError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames: Host: x."),
    );
    assert.equal(
      text,
      "TLS hostname does not match the server certificate: Hostname/IP does not match certificate's altnames: Host: x. (ERR_TLS_CERT_ALTNAME_INVALID)",
    );
  });
  await t.step("anything else is not a TLS certificate failure", () => {
    assert.equal(describeTlsError(tlsError("ECONNREFUSED", "connect ECONNREFUSED")), undefined);
    assert.equal(describeTlsError(new Error("no code")), undefined);
    assert.equal(describeTlsError(undefined), undefined);
  });
});

Deno.test("tlsOptions() names the key and file it cannot read", () => {
  assert.throws(
    () => tlsOptions({ ca: "/nonexistent/beds-ca.pem", reject_unauthorized: true }),
    /^Error: Cannot read TLS ca file "\/nonexistent\/beds-ca.pem": /,
  );
});

Deno.test("amqpUser() is the user the config logs in as", async (t) => {
  const base = { user: "svc" } as AmqpConfig;
  await t.step("host/port config: amqp.user", () => assert.equal(amqpUser(base), "svc"));
  await t.step("a URL's user wins, percent-decoded", () => {
    assert.equal(amqpUser({ ...base, url: "amqps://app%40x:s3cret@mq.example:5671/v" }), "app@x");
  });
  await t.step("a URL without credentials logs in as guest", () => {
    assert.equal(amqpUser({ ...base, url: "amqp://mq.example" }), "guest");
  });
});
