/**
 * A node on a host whose zone is not UTC returns and passes on DATE and
 * DATETIME values as the database holds them: the MariaDB driver builds
 * them in the process's zone, and the node runs in UTC.
 */
import assert from "node:assert/strict";
import { templatesWithDateTimeRel } from "../helpers/files.ts";
import { consumerCount, createTestEnv, dbQuery, ROOT, waitFor, workQueues } from "../helpers/services.ts";

Deno.test("a node started with TZ=Europe/Berlin reads and passes on date-times in UTC", async () => {
  const dir = await templatesWithDateTimeRel(ROOT);
  const env = await createTestEnv({ templatesDir: dir });
  // Winter and summer times, both shifted by a zone east of UTC if read as local time.
  await dbQuery(env, "UPDATE customers SET created_at = '2024-01-08 09:14:22.125' WHERE id = 1");
  await dbQuery(env, "UPDATE customers SET created_at = '2024-07-08 23:30:00.000' WHERE id = 2");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--node", "appServer", ...env.cliArgs],
    env: { TZ: "Europe/Berlin" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (const queue of workQueues(env)) {
      await waitFor(async () => await consumerCount(queue) >= 1, 20_000, `consumers on ${queue}`);
    }
    const client = await env.client();
    for (const [id, at] of [[1, "2024-01-08T09:14:22.125Z"], [2, "2024-07-08T23:30:00.000Z"]] as const) {
      const read = await client.request({ template: "cus", op: "read", key: { id } });
      assert.ok(read.ok, JSON.stringify(read));
      assert.equal((read.data as { created_at: string }).created_at, at);
      // The REL's second part filters on the first part's value: shifted, it would find nothing.
      const rel = await client.request({ template: "cdt", op: "read", key: { id } });
      assert.ok(rel.ok, JSON.stringify(rel));
      const rows = (rel.data as { same_time: Array<{ id: number }> }).same_time;
      assert.ok(rows.some((row) => row.id === id), JSON.stringify(rows));
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await stderr.cancel().catch(() => {});
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
