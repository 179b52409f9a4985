import assert from "node:assert/strict";
import { cli, ROOT, uniqueId } from "../helpers/services.ts";
import { createAmqpUser } from "../helpers/amqp_users.ts";

/** Every command that connects to RabbitMQ, with arguments that get it as far as connecting. */
const CONNECTING = [
  ["status", "--wait", "300"],
  ["shutdown", "--node", "nobody", "--wait", "300"],
  ["templates", "reload", "--wait", "300"],
  ["call", "cus", "read", "--key", '{"id":1}', "--timeout", "1000"],
  ["dlq", "list"],
];

// The lab config: its RabbitMQ login is replaced by each test's BEDS_AMQP_URL, and nothing is declared.
const LAB = ["--config", `${ROOT}/config`, "--env", "lab"];

Deno.test("every CLI command says a refused AMQP login as beds check does, exit 1", async (t) => {
  const id = uniqueId();
  const password = `Pw-${id}`;
  const user = await createAmqpUser(`beds_t_login_${id}`, password);
  // No vhost in the URL is "/".
  const url = (pass: string, vhost?: string) =>
    `amqp://${user.user}:${encodeURIComponent(pass)}@127.0.0.1:5672${vhost ? `/${vhost}` : ""}`;
  try {
    const vhost = `beds_novhost_${id}`;
    for (const args of CONNECTING) {
      await t.step(`${args.join(" ")}: a vhost that does not exist`, async () => {
        const run = await cli([...args, ...LAB], { BEDS_AMQP_URL: url(password, vhost) });
        assert.equal(run.code, 1, run.out + run.err);
        assert.equal(
          run.err,
          `beds: AMQP login to 127.0.0.1:5672/${vhost} as "${user.user}" failed: vhost "${vhost}" does not ` +
            `exist or user "${user.user}" has no permissions on it: check amqp.vhost (or the URL's path) and ` +
            "the user's permissions",
        );
      });
      await t.step(`${args.join(" ")}: a wrong password`, async () => {
        const wrong = `Wrong-${id}`;
        const run = await cli([...args, ...LAB], { BEDS_AMQP_URL: url(wrong) });
        assert.equal(run.code, 1, run.out + run.err);
        assert.match(
          run.err,
          new RegExp(
            `^beds: AMQP login to 127\\.0\\.0\\.1:5672/ as "${user.user}" failed: user or password refused: ` +
              "check amqp\\.user and amqp\\.pass \\(or the URL's credentials\\); .*ACCESS.REFUSED",
          ),
        );
        assert.ok(!run.err.includes(wrong) && !run.out.includes(wrong), "the password is never printed");
      });
    }
    await t.step("beds check says it in the same words", async () => {
      const run = await cli(["check", ...LAB], { BEDS_AMQP_URL: url(password, vhost) });
      assert.equal(run.code, 12, run.out + run.err);
      assert.ok(
        run.out.includes(
          `AMQP login to 127.0.0.1:5672/${vhost} as "${user.user}" failed: vhost "${vhost}" does not exist`,
        ),
        run.out,
      );
    });
  } finally {
    await user.drop();
  }
});

Deno.test("admin commands RabbitMQ refuses (ACCESS_REFUSED on the admin exchange) exit 1, not 3", async () => {
  const id = uniqueId();
  const password = `Pw-${id}`;
  // May log in and read its replies, but publish nowhere: the admin exchange refuses it.
  const user = await createAmqpUser(`beds_t_noadmin_${id}`, password, {
    configure: "^$",
    write: "^$",
    read: "^amq\\.rabbitmq\\.reply-to$",
  });
  try {
    for (const args of CONNECTING.slice(0, 3)) {
      const run = await cli([...args, ...LAB], {
        BEDS_AMQP_URL: `amqp://${user.user}:${password}@127.0.0.1:5672/%2F`,
      });
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.out}${run.err}`);
      assert.match(run.err, /ACCESS_REFUSED - access to exchange 'beds\.admin' in vhost '\/' refused/);
    }
  } finally {
    await user.drop();
  }
});
