/**
 * The bench's HTML report opens in a browser with no network: headless
 * Chromium loads the file, every plot is drawn from the inlined uPlot and
 * results, and the page asks for nothing beyond itself. Screenshot in
 * tests/output/.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { renderReport } from "../../lab/bench/report.ts";
import type { GateFile } from "../../lab/bench/gate.ts";
import { ROOT } from "../helpers/services.ts";

Deno.test("bench report: every plot is drawn offline from the page alone", async () => {
  // A real gate run's results (lab/results/*-gate.json), kept as test data.
  const file = JSON.parse(
    await Deno.readTextFile(`${ROOT}/tests/testdata/bench_gate_results.json`),
  ) as GateFile;
  const ran = file.scenarios.filter((s) => !s.skipped);
  const metered = ran.filter((s) => s.beds_no_metrics).length > 0;
  // Three overview bar charts, two more for the cost of metrics, two plots per scenario.
  const plots = 3 + (metered ? 2 : 0) + 2 * ran.length;

  const dir = await Deno.makeTempDir({ prefix: "beds_report_" });
  const html = `${dir}/report.html`;
  await Deno.writeTextFile(html, renderReport(file));
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith("file://")) requested.push(r.url());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`file://${html}`);
    // Page-side code as strings: the test itself is not type-checked against the DOM.
    await page.waitForFunction(`document.querySelectorAll(".uplot canvas").length >= ${plots}`, undefined, {
      timeout: 10_000,
    });
    assert.equal(await page.locator(".uplot").count(), plots);
    assert.deepEqual(errors, []);
    assert.deepEqual(requested, [], "the report needs nothing from the network");
    // The plots are drawn, not empty canvases: some pixels are not background.
    const drawn = await page.evaluate(`[...document.querySelectorAll(".uplot canvas")].every((c) => {
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
      return false;
    })`);
    assert.ok(drawn, "every plot has something drawn on it");
    for (const s of ran) assert.ok((await page.textContent("body"))!.includes(s.name));
    await Deno.mkdir(`${ROOT}/tests/output`, { recursive: true });
    await page.screenshot({ path: `${ROOT}/tests/output/bench_report.png`, fullPage: true });
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true });
  }
});
