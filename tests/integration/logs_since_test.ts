/**
 * `beds logs tail --since` reads a time without a zone as UTC, as the store's times are, on a host in
 * any zone: `Date` would read it in the host's zone and cut the tail at another hour.
 */
import assert from "node:assert/strict";
import { cli, createTestEnv, dbQuery, ROOT } from "../helpers/services.ts";
import { utcTime } from "../../src/cli/logs.ts";
import { filterTime } from "../../utilities/log_dumper/source.ts";

Deno.test("utcTime() reads an ISO time without a zone as UTC and refuses what is no ISO time", () => {
  assert.equal(utcTime("2026-11-29T21:00"), "2026-11-29T21:00:00.000Z");
  assert.equal(utcTime("2026-11-29 21:00:05.5"), "2026-11-29T21:00:05.500Z");
  assert.equal(utcTime("2026-11-29T21:00+01:00"), "2026-11-29T20:00:00.000Z");
  assert.equal(utcTime("2026-11-29"), "2026-11-29T00:00:00.000Z");
  for (const text of ["Nov 29 2026 21:00", "yesterday", "2026-11-29T25:00", ""]) {
    assert.equal(utcTime(text), undefined, text);
  }
});

Deno.test("utcTime() refuses a time that names no real one, as the observer does, not rolling it over", () => {
  for (
    const text of [
      "2025-02-30T10:00",
      "2025-02-29",
      "2025-01-01T24:00",
      "2025-01-01T10:60",
      "2025-01-01T10:00:60",
      "2025-13-01",
      "2025-01-01T10:00+24:00",
      "0999-01-01",
      "1000-01-01T00:30+01:00",
    ]
  ) {
    assert.equal(utcTime(text), undefined, text);
    assert.equal(filterTime(text), undefined, text);
  }
  assert.equal(utcTime("2024-02-29T10:00:00.123456789"), "2024-02-29T10:00:00.123Z");
  assert.equal(utcTime("2025-01-01T10:00:00-0230"), "2025-01-01T12:30:00.000Z");
  assert.equal(utcTime("9999-12-31T23:59:59.999z"), "9999-12-31T23:59:59.999Z");
  // One parser: the observer reads every time the CLI takes alike.
  for (const text of ["2025-01-01t10:00:00+0200", " 2025-01-01 10:00 ", "2025-01-02+01:00"]) {
    assert.equal(utcTime(text), new Date(filterTime(text)!).toISOString(), text);
  }
});

Deno.test("beds logs tail --since with an impossible date is a usage error (exit 2) naming it", async () => {
  for (const text of ["2025-02-30T10:00", "2025-01-01T24:00", "0999-01-01"]) {
    // Refused before any config is read.
    const run = await cli(["logs", "tail", "--since", text, "--config", "/nonexistent/beds-config"]);
    assert.equal(run.code, 2, `${text}: ${run.err}`);
    assert.match(run.err, new RegExp(`Option --since must be an ISO time .*1000–9999, got "${text}"`));
    assert.equal(run.out, "");
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
