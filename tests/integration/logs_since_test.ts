/**
 * `beds logs tail --since` reads a time without a zone as UTC, as the store's times are, on a host in
 * any zone: `Date` would read it in the host's zone and cut the tail at another hour.
 */
import assert from "node:assert/strict";
import { createTestEnv, dbQuery, ROOT } from "../helpers/services.ts";
import { utcTime } from "../../src/cli/logs.ts";

Deno.test("utcTime() reads an ISO time without a zone as UTC and refuses what is no ISO time", () => {
  assert.equal(utcTime("2026-11-29T21:00"), "2026-11-29T21:00:00.000Z");
  assert.equal(utcTime("2026-11-29 21:00:05.5"), "2026-11-29T21:00:05.500Z");
  assert.equal(utcTime("2026-11-29T21:00+01:00"), "2026-11-29T20:00:00.000Z");
  assert.equal(utcTime("2026-11-29"), "2026-11-29T00:00:00.000Z");
  for (const text of ["Nov 29 2026 21:00", "yesterday", "2026-11-29T25:00", ""]) {
    assert.equal(utcTime(text), undefined, text);
  }
});

Deno.test("beds logs tail --since without a zone cuts at that UTC time, whatever the host's zone", async () => {
  const env = await createTestEnv({
    extraToml:
      `\n[logstore]\nstore = "mariadb"\ndatabase = "lab"\ntemplates_dir = "${ROOT}/templates/logstore"\n`,
  });
  try {
    await dbQuery(
      env,
      "INSERT INTO ms_logs (event, kind, level, at, node, doc) VALUES " +
        "('tz1', 'request', 'info', '2026-11-29 20:30:00.000', 'n', '{}'), " +
        "('tz2', 'request', 'info', '2026-11-29 21:30:00.000', 'n', '{}')",
    );
    for (const tz of ["UTC", "America/New_York", "Asia/Tokyo"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${ROOT}/src/main.ts`,
          "logs",
          "tail",
          "--since",
          "2026-11-29T21:00",
          "--json",
          ...env.cliArgs,
        ],
        env: { TZ: tz },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, `${tz}: ${new TextDecoder().decode(out.stderr)}`);
      const events = text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line).event);
      assert.deepEqual(events, ["tz2"], `TZ=${tz}`);
    }
  } finally {
    await env.cleanup();
  }
});
