/**
 * The admin role's brokers, on the admin exchange: an appServer node sends
 * its log store records (`[logstore] store = "admin"`), status reports and
 * warn lines there; the admin node writes them and answers reads of the log
 * store (read.mst, call.mst chain, `beds logs`), the fleet's status
 * (read.nst), the system log (read.slg) and per-minute graphs (read.grf).
 */
import assert from "node:assert/strict";
import { adminExchangeName } from "../../src/amqp/mod.ts";
import { BedsClient } from "../../src/client/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode, type TestEnv, waitFor } from "../helpers/services.ts";
import { expectError, expectOk } from "../helpers/replies.ts";

type Row = Record<string, unknown>;

/**
 * A config dir per node, as on two hosts: the appServer sends its records to
 * the admin role, the admin node stores them; both log warnings.
 */
async function nodeConfigs(env: TestEnv): Promise<{ app: string; adm: string }> {
  const base = (await Deno.readTextFile(`${env.configDir}/env_test.toml`)).replace(
    'level = "silent"',
    'level = "warn"',
  );
  const logstore = (store: string) =>
    `\n[logstore]\nstore = "${store}"\ndatabase = "logs"\ntemplates_dir = "${ROOT}/templates/logstore"\nflush_ms = 50\n`;
  const dir = async (store: string) => {
    const d = await Deno.makeTempDir({ prefix: "beds_cfg_" });
    await Deno.copyFile(`${env.configDir}/beds.toml`, `${d}/beds.toml`);
    await Deno.writeTextFile(`${d}/env_test.toml`, base + logstore(store));
    return d;
  };
  return { app: await dir("admin"), adm: await dir("mariadb") };
}

const rows = (reply: Reply): Row[] => expectOk<Row[]>(reply);

Deno.test("the admin role serves the log store, fleet status, system log and graphs over the admin exchange", async (t) => {
  const env = await createTestEnv({ admin: { report_ms: 200, syslog: true } });
  const dirs = await nodeConfigs(env);
  const app = `app-${env.id}`;
  const adm = `adm-${env.id}`;
  const admin = await startNode(env, "admin", adm, ["--config", dirs.adm]);
  const node = await startNode(env, "appServer", app, ["--config", dirs.app]);
  const client = await env.client();
  const ops = await BedsClient.connect({
    amqp: env.config.amqp,
    exchange: adminExchangeName(env.config.amqp.exchange),
  });
  try {
    expectOk(await client.request({ template: "cus", op: "read", key: { id: 1 } }));
    expectError(await client.request({ template: "cus", op: "read", key: { id: 999999 } }), "NOT_FOUND");

    let requests: Row[] = [];
    await t.step("the appServer's records reach the admin node's log store over AMQP", async () => {
      await waitFor(
        async () => {
          requests = rows(
            await ops.request({ template: "mst", op: "read", where: { node: app, kind: "request" } }),
          );
          return requests.length >= 2;
        },
        20_000,
        "the appServer's request records",
      );
      const notFound = requests.find((r) => r.code === "NOT_FOUND");
      assert.ok(notFound, JSON.stringify(requests));
      assert.equal(notFound.template, "cus");
      const chain = rows(
        await ops.request({ template: "mst", op: "call", call: "chain", data: { event: notFound.event } }),
      );
      assert.deepEqual(chain.map((r) => r.event), [notFound.event]);
    });

    await t.step("beds logs reads them through the admin role", async () => {
      const run = await cli(["logs", "tail", "--config", dirs.app, "--env", "test", "--node", app, "--json"]);
      assert.equal(run.code, 0, run.err);
      const printed = run.out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);
      assert.ok(printed.some((r) => r.code === "NOT_FOUND" && r.node === app), run.out);
    });

    await t.step("read.nst answers the latest status report of every node", async () => {
      let fleet: Row[] = [];
      await waitFor(
        async () => {
          fleet = rows(await ops.request({ template: "nst", op: "read" }));
          const mine = fleet.find((r) => r.node === app);
          return Boolean(mine && Number(mine.requests) >= 2 && fleet.some((r) => r.node === adm));
        },
        20_000,
        "status reports of both nodes",
      );
      const mine = fleet.find((r) => r.node === app)!;
      assert.equal(mine.role, "appServer");
      assert.equal(Number(mine.errors), 1);
      assert.match(String(mine.last_error), /^NOT_FOUND at /);
      assert.ok(Number(mine.age_s) < 10);
      assert.equal(fleet.find((r) => r.node === adm)!.role, "admin");
    });

    await t.step("the admin exchange's own successful requests are not recorded", async () => {
      // By now the admin node has stored record batches, status reports and these steps' reads:
      // recorded, each would be a record of the log store's own work (and one more per poll).
      await new Promise((resolve) => setTimeout(resolve, 500));
      const own = rows(
        await ops.request({ template: "mst", op: "read", where: { node: adm, kind: "request" } }),
      );
      assert.deepEqual(own.filter((r) => r.code === null).map((r) => `${r.op}.${r.template}`), []);
    });

    await t.step("read.slg answers the warn lines nodes shipped (IPL warnings included)", async () => {
      let lines: Row[] = [];
      await waitFor(
        async () => {
          lines = rows(await ops.request({ template: "slg", op: "read", where: { node: app } }));
          return lines.length > 0;
        },
        20_000,
        "the appServer's warn lines",
      );
      // The test env has an optional MongoDB that is down: reachability is an IPL warning.
      const ipl = lines.find((l) => String(l.line).includes('"reachability"'));
      assert.ok(ipl, JSON.stringify(lines));
      assert.equal(ipl.level, "warn");
      assert.equal(JSON.parse(String(ipl.line)).node, app);
    });

    await t.step("read.grf answers calls per minute by template, op and outcome", async () => {
      const minutes = rows(
        await ops.request({ template: "grf", op: "read", where: { node: app, template: "cus" } }),
      );
      const count = (outcome: string) =>
        minutes.filter((m) => m.op === "read" && m.outcome === outcome).reduce(
          (n, m) => n + Number(m.requests),
          0,
        );
      assert.equal(count("OK"), 1, JSON.stringify(minutes));
      assert.equal(count("NOT_FOUND"), 1, JSON.stringify(minutes));
    });

    await t.step(
      "read.grf counts a fan-out's parts, folded into its record, as calls of their templates",
      async () => {
        expectOk(await client.request({ template: "dsh", op: "read" }));
        let ord = 0;
        await waitFor(
          async () => {
            const minutes = rows(
              await ops.request({ template: "grf", op: "read", where: { node: app, template: "ord" } }),
            );
            ord = minutes.filter((m) => m.outcome === "OK").reduce((n, m) => n + Number(m.requests), 0);
            return ord > 0;
          },
          20_000,
          "the fan-out's records",
        );
        assert.equal(ord, 3, "the three ord parts of dsh");
      },
    );

    await t.step("admin templates are not reachable on the data exchange", async () => {
      const reply = await client.request({ template: "mst", op: "read", where: { node: app } }).catch((e) =>
        e
      );
      // appServer's rBroker takes read.* on the data exchange and has no template mst.
      assert.equal((reply as Reply).ok, false);
      assert.equal((reply as Reply & { ok: false }).error.code, "UNKNOWN_TEMPLATE");
    });

    await t.step("a node whose start fails after the topology ships its fatal line", async () => {
      const bad = `bad-${env.id}`;
      // Verification fails for a node starting now; the running ones verified at their start.
      await dbQuery(env, "DROP PROCEDURE sp_cus_delete");
      const run = await cli([
        "run",
        "--node",
        "appServer",
        "--instance",
        bad,
        "--config",
        dirs.app,
        "--env",
        "test",
      ]);
      assert.equal(run.code, 16, run.out + run.err);
      let lines: Row[] = [];
      await waitFor(
        async () => {
          lines = rows(await ops.request({ template: "slg", op: "read", where: { node: bad } }));
          return lines.some((l) => l.level === "error");
        },
        20_000,
        "the failed node's error line",
      );
      const fatal = lines.find((l) => l.level === "error")!;
      assert.match(String(fatal.line), /ipl templates_verify failed/);
      assert.match(String(fatal.line), /sp_cus_delete/);
    });
  } finally {
    await ops.close();
    assert.equal(await node.stop(), 0);
    assert.equal(await admin.stop(), 0);
    await env.cleanup();
    for (const d of Object.values(dirs)) await Deno.remove(d, { recursive: true });
  }
});
