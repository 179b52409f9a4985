/**
 * What a web page the operator opens can do to a node's HTTP listeners, in
 * headless Chromium: a page on another local origin, and a page on a name
 * rebound to 127.0.0.1 (Chromium's --host-resolver-rules stands in for the
 * attacker's DNS). Neither may change data through the gateway, nor read
 * /metrics.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { createTestEnv, type RunningNode, startNode } from "../helpers/services.ts";
import { nodeUrls } from "../helpers/http.ts";
import { expectOk } from "../helpers/replies.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Resolved to 127.0.0.1 by Chromium alone, as an attacker's DNS would after rebinding. */
const REBOUND = "rebind.test";

Deno.test({
  name: "a web page can neither change data through the gateway nor read a node's metrics",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await Deno.stat(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    });
    const env = await createTestEnv();
    const cleanups: Array<() => Promise<unknown>> = [() => env.cleanup()];
    try {
      const app = await startNode(env, "appServer", `pgapp-${env.id}`);
      cleanups.unshift(() => app.stop());
      const gatewayNode: RunningNode = await startNode(env, "gateway", `pg-${env.id}`);
      cleanups.unshift(() => gatewayNode.stop());
      const urls = await nodeUrls(env, `pg-${env.id}`, { gateway: true });
      const gateway = new URL(urls.gateway!);
      const client = await env.client();
      const nameOf = async () => {
        const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
        return expectOk<{ name: string }>(reply).name;
      };
      const before = await nameOf();

      // Any page served from this machine on another port: a developer's web server, a tool's UI.
      const site = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () =>
          new Response("<!doctype html><title>elsewhere</title>", {
            headers: { "content-type": "text/html" },
          }),
      );
      cleanups.unshift(() => site.shutdown());
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
        ],
      });
      cleanups.unshift(() => browser.close());
      const page = await browser.newPage();
      const update = JSON.stringify({ key: { id: 1 }, data: { name: "Changed by a web page" } });

      await t.step("a no-cors text/plain POST from another origin runs nothing", async () => {
        await page.goto(`http://localhost:${site.addr.port}/`);
        const type = await page.evaluate(
          async ([url, body]) => (await fetch(url!, { method: "POST", mode: "no-cors", body })).type,
          [`${gateway.origin}/v1/cus/update`, update],
        );
        assert.equal(type, "opaque", "the request went out");
        assert.equal(await nameOf(), before);
      });

      await t.step("a page on a rebound name, same-origin with the gateway, is answered 403", async () => {
        await page.goto(`http://${REBOUND}:${gateway.port}/`);
        const answer = await page.evaluate(async ([url, body]) => {
          const response = await fetch(url!, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          return { status: response.status, code: (await response.json()).error?.code };
        }, [`/v1/cus/update`, update]);
        assert.deepEqual(answer, { status: 403, code: "FORBIDDEN" });
        assert.equal(await nameOf(), before);
      });

      await t.step("a page on a rebound name cannot read /metrics", async () => {
        const http = new URL(urls.http);
        const response = await page.goto(`http://${REBOUND}:${http.port}/metrics`);
        assert.equal(response?.status(), 421);
        assert.ok(!(await page.content()).includes("beds_"), "no metrics in the page");
      });
    } finally {
      for (const cleanup of cleanups) await cleanup().catch((e) => console.error("cleanup:", e));
    }
  },
});
