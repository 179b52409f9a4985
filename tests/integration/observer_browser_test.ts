/**
 * The observer end to end: a node writes to the MariaDB log store, the
 * observer (its own process, read-only account) serves it, and headless
 * Chromium filters the events (a time range named with a zone kept when the form is sent again),
 * opens a chain and sees its children and error, and a page on a DNS name rebound to 127.0.0.1 is
 * refused.
 * Screenshots go to tests/output/.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { startObserverProcess } from "../helpers/observer.ts";
import { chromium } from "playwright-core";
import { createTestEnv, ROOT, startNode, type TestEnv, uniqueId, waitFor } from "../helpers/services.ts";
import { expectError, expectOk } from "../helpers/replies.ts";

const CHROMIUM = "/usr/bin/chromium";
const XSS = `<script>alert("x")</script>`;

async function sql<T>(env: TestEnv | undefined, text: string, values: unknown[] = []): Promise<T> {
  const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: env?.schema });
  try {
    return await conn.query(text, values) as T;
  } finally {
    await conn.end();
  }
}

/** A MariaDB account that may only SELECT the log store's view. */
async function readOnlyUser(
  env: TestEnv,
): Promise<{ user: string; password: string; drop(): Promise<void> }> {
  const user = `obs_${uniqueId()}`;
  const password = uniqueId();
  for (const host of ["%", "localhost"]) {
    await sql(undefined, `CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
    await sql(undefined, `GRANT SELECT ON \`${env.schema}\`.\`v_ms_logs\` TO '${user}'@'${host}'`);
  }
  return {
    user,
    password,
    drop: async () => {
      for (const host of ["%", "localhost"]) await sql(undefined, `DROP USER IF EXISTS '${user}'@'${host}'`);
    },
  };
}

/** Runs `deno task observer`'s entry as its own process; resolves with its URL. */
function startObserver(env: TestEnv, account: { user: string; password: string }) {
  return startObserverProcess({
    LOG_DUMPER_REFRESH: "0",
    LOG_DUMPER_DB_USER: account.user,
    LOG_DUMPER_DB_PASSWORD: account.password,
    LOG_DUMPER_DB_NAME: env.schema,
  });
}

Deno.test({
  name:
    "the observer shows events, filters them, opens a chain with its children and error, and refuses a rebound name",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.stat(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    });
    const env = await createTestEnv({
      extraToml: `
[logstore]
store = "mariadb"
database = "lab"
templates_dir = "${ROOT}/templates/logstore"
flush_ms = 50
`,
    });
    const cleanups: Array<() => Promise<unknown>> = [() => env.cleanup()];
    try {
      const node = await startNode(env, "appServer", "observer-node");
      cleanups.unshift(() => node.stop());
      const client = await env.client();
      // A chain: a root read, a fan-out joined to it, and a failing read joined to it.
      const root = await client.request({ template: "prd", op: "read", key: { id: 1 } });
      expectOk(root);
      const parent = { parent: root.meta.event };
      const fanout = await client.request({ template: "cov", op: "read", key: { id: 1 }, event: parent });
      const failed = await client.request({
        template: "prd",
        op: "read",
        key: { id: 999999 },
        event: parent,
      });
      expectError(failed, "NOT_FOUND");
      // A record carrying markup, as a hostile or broken writer could leave it.
      await sql(
        env,
        `INSERT INTO ms_logs (event, kind, level, at, node, template, op, code, message, doc)
         VALUES (?, 'request', 'error', UTC_TIMESTAMP(3), 'observer-node', ?, 'read', 'BAD_REQUEST', ?, '{}')`,
        [`xss-${uniqueId()}`, XSS, XSS],
      );
      await waitFor(
        async () => {
          const [row] = await sql<Array<{ n: number }>>(
            env,
            "SELECT COUNT(*) AS n FROM ms_logs WHERE event LIKE CONCAT(?, '.%')",
            [root.meta.event],
          );
          return Number(row!.n) >= 2;
        },
        10_000,
        "the chain's records to be written",
      );

      const account = await readOnlyUser(env);
      cleanups.unshift(() => account.drop());
      const observer = await startObserver(env, account);
      cleanups.unshift(() => observer.stop());
      assert.match(observer.url, /^http:\/\/127\.0\.0\.1:\d+$/, "binds localhost by default");

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          // What an attacker's DNS does after rebinding: their name now points at this machine.
          "--host-resolver-rules=MAP rebind.test 127.0.0.1",
        ],
      });
      cleanups.unshift(() => browser.close());
      const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      let dialogs = 0;
      page.on("dialog", (dialog) => {
        dialogs++;
        void dialog.dismiss();
      });
      await Deno.mkdir(`${ROOT}/tests/output`, { recursive: true });

      await page.goto(`${observer.url}/`);
      assert.ok(await page.locator("#events tbody tr").count() >= 4);
      assert.ok((await page.textContent("#events"))!.includes(XSS), "markup shows as text");
      assert.equal(await page.locator("main script").count(), 0, "no script element came from the data");

      await page.selectOption('select[name="level"]', "error");
      await page.fill('input[name="node"]', "observer-node");
      await Promise.all([page.waitForURL(/level=error/), page.click("#filters button[type=submit]")]);
      const levels = await page.locator("#events tbody td.lvl").allTextContents();
      assert.ok(levels.length >= 2 && levels.every((l) => l === "error"), levels.join(","));
      await page.screenshot({ path: `${ROOT}/tests/output/observer_events.png`, fullPage: true });

      await Promise.all([
        page.waitForURL(/\/chain\?id=/),
        page.click(`#events a[href="/chain?id=${encodeURIComponent(failed.meta.event)}"]`),
      ]);
      const rootNode = page.locator(`#chain > li.node[data-event="${root.meta.event}"]`);
      assert.equal(await rootNode.count(), 1, "the chain opens at its root");
      const children = await rootNode.locator(":scope > ul > li.node").evaluateAll((els) =>
        els.map((el) => el.getAttribute("data-event"))
      );
      assert.ok(children.includes(failed.meta.event), children.join(","));
      assert.ok(children.includes(fanout.meta.event), children.join(","));
      const error = page.locator(`li.node.err[data-event="${failed.meta.event}"]`);
      assert.match((await error.textContent())!, /NOT_FOUND: No "prd" matches the key/);
      if (fanout.ok) {
        const parts = await page.locator(`li.node[data-event^="${fanout.meta.event}."]`).count();
        assert.ok(parts >= 3, `fan-out parts under the REL request: ${parts}`);
      }
      await page.screenshot({ path: `${ROOT}/tests/output/observer_chain.png`, fullPage: true });

      await page.click('header a[href="/ipl"]');
      assert.match((await page.textContent("main"))!, /observer-node[\s\S]*logstore/);

      // A time range named with a zone: the form shows the UTC time (a datetime-local input holds no
      // zone), and sending the form again, another filter changed, keeps it.
      const from = Date.now() - 3_600_000;
      const zoned = `${new Date(from + 7_200_000).toISOString().slice(0, 19)}+02:00`;
      await page.goto(`${observer.url}/?since=${encodeURIComponent(zoned)}`);
      const shown = await page.inputValue('input[name="since"]');
      assert.equal(Date.parse(`${shown}Z`), Math.floor(from / 1000) * 1000, `the form shows ${shown}`);
      await page.selectOption('select[name="level"]', "info");
      await Promise.all([page.waitForURL(/level=info/), page.click("#filters button[type=submit]")]);
      assert.equal(new URL(page.url()).searchParams.get("since"), shown, "the time range was sent again");
      assert.equal(await page.locator(".ignored").count(), 0);
      assert.ok(await page.locator("#events tbody tr td.lvl").count() >= 1, "records since then");

      // A page on a rebound name would be same-origin with the observer, free to read the log.
      const rebound = await page.goto(`http://rebind.test:${new URL(observer.url).port}/`);
      assert.equal(rebound?.status(), 421);
      assert.ok(!(await page.content()).includes("observer-node"), "no log records on a rebound name");
      assert.equal(dialogs, 0);
    } finally {
      for (const cleanup of cleanups) await cleanup().catch((e) => console.error("cleanup:", e));
    }
  },
});
