/**
 * The observer (its own process, a read-only account) against a MariaDB log
 * store that misbehaves: records a broken writer left, a chain longer than a
 * page, statements that run long, readers that go away, and a network that
 * stops answering. Each case talks HTTP only, as a reader would.
 */
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { startObserverProcess } from "../helpers/observer.ts";
import { dropSchema, loadLabSchema } from "../../lab/db.ts";
import { uniqueId, waitFor } from "../helpers/services.ts";

const COLUMNS =
  "event, parent, kind, level, at, node, broker, template, op, code, action, attempt, ms, nrows";

async function sql<T>(schema: string | undefined, text: string, values: unknown[] = []): Promise<T> {
  const conn = await mariadb.createConnection({ host: "127.0.0.1", user: "root", database: schema });
  try {
    return await conn.query(text, values) as T;
  } finally {
    await conn.end();
  }
}

/** A record as a node would write it, its doc as given. */
function insert(schema: string, event: string, doc: string, kind = "request", at = "UTC_TIMESTAMP(3)") {
  return sql(
    schema,
    `INSERT INTO ms_logs (${COLUMNS}, message, doc)
     VALUES (?, NULL, ?, 'info', ${at}, 'store-node', 'b', 'prd', 'read', NULL, 'reply', 1, 1, 1, 'm', ?)`,
    [event, kind, doc],
  );
}

/**
 * A TCP proxy to the MariaDB server. `stall()` makes the connections open now stop passing bytes
 * while staying open (a dropped NAT entry, a failed-over server); new connections pass.
 */
function stallingProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Array<{ stalled: boolean; conns: Deno.Conn[] }> = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, pair: { stalled: boolean }) => {
    const buf = new Uint8Array(65536);
    try {
      for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
        if (pair.stalled) continue;
        for (let at = 0; at < n;) at += await to.write(buf.subarray(at, n));
      }
    } catch { /* closed */ }
    try {
      to.close();
    } catch { /* closed already */ }
  };
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: 3306 });
      const pair = { stalled: false, conns: [client, server] };
      open.push(pair);
      void pump(client, server, pair);
      void pump(server, client, pair);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stall: () => open.forEach((pair) => pair.stalled = true),
    close() {
      listener.close();
      for (const pair of open) {
        for (const conn of pair.conns) {
          try {
            conn.close();
          } catch { /* closed already */ }
        }
      }
    },
  };
}

/** `deno task observer`'s entry as its own process; resolves once it listens. */
function startObserver(env: Record<string, string>) {
  return startObserverProcess({ LOG_DUMPER_REFRESH: "5", ...env });
}

type Observer = Awaited<ReturnType<typeof startObserver>>;

function ok(page: Awaited<ReturnType<Observer["get"]>>, what: string) {
  assert.notEqual(page, "timeout", `${what}: no answer`);
  if (page === "timeout") return "";
  assert.equal(page.status, 200, `${what}: ${page.text.slice(0, 600)}`);
  return page.text;
}

Deno.test({
  name: "the observer bounds what a misbehaving log store costs it and says what it left out",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const schema = `beds_t_${uniqueId()}`;
    const user = `obs_${uniqueId()}`;
    const password = uniqueId();
    const observers: Observer[] = [];
    const proxy = stallingProxy();
    const observer = async (env: Record<string, string> = {}) => {
      const started = await startObserver({
        LOG_DUMPER_DB_USER: user,
        LOG_DUMPER_DB_PASSWORD: password,
        LOG_DUMPER_DB_NAME: schema,
        ...env,
      });
      observers.push(started);
      return started;
    };
    try {
      await loadLabSchema({ schema });
      for (const host of ["%", "localhost"]) {
        await sql(undefined, `CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
        await sql(undefined, `GRANT SELECT ON \`${schema}\`.\`v_ms_logs\` TO '${user}'@'${host}'`);
      }

      await t.step(
        "a record whose doc is JSON null, or an IPL step that is null, breaks no page",
        async () => {
          await insert(schema, "null-doc", "null");
          await insert(schema, "array-doc", "[1, 2]");
          await insert(
            schema,
            "ipl-null-step",
            JSON.stringify({ role: "r", steps: [null, 3, { step: "ok" }] }),
            "ipl",
          );
          const obs = await observer();
          assert.match(ok(await obs.get("/"), "events"), /null-doc[\s\S]*array-doc|array-doc[\s\S]*null-doc/);
          assert.match(ok(await obs.get("/chain?id=null-doc"), "chain"), /data-event="null-doc"/);
          assert.match(ok(await obs.get("/ipl"), "ipl"), /<td>ok<\/td>/);
        },
      );

      await t.step("times read by an observer on a host not in UTC are shown as stored, in UTC", async () => {
        await insert(schema, "zoned", "{}", "request", "'2025-03-30 01:00:00.125'");
        const obs = await observer({ TZ: "Asia/Kolkata" });
        const page = ok(await obs.get("/"), "events");
        assert.match(page, /2025-03-30T01:00:00\.125Z/);
        assert.ok(!page.includes("2025-03-29T19:30"), "shifted by the host's offset");
      });

      await t.step(
        "a chain past 5,000 records says it was cut and still shows the event asked for",
        async () => {
          const root = `long${uniqueId()}`;
          await sql(
            schema,
            `INSERT INTO ms_logs (${COLUMNS}, message, doc)
           SELECT CONCAT(?, '.', seq), ?, 'request', 'info', UTC_TIMESTAMP(3) - INTERVAL 1 HOUR + INTERVAL seq * 1000 MICROSECOND,
                  'store-node', 'b', 'prd', 'read', NULL, 'reply', 1, 1, 1, NULL, '{}'
             FROM mysql.seq_1_to_5010`,
            [root, root],
          );
          const obs = observers[0]!;
          const page = ok(await obs.get(`/chain?id=${root}.5010`), "long chain");
          // Plain checks: a failed match would print the whole megabyte page.
          assert.ok(
            /id="cut"[^>]*>This chain has more than 5,000 records/.test(page),
            "the page says it was cut",
          );
          assert.ok(page.includes(`data-event="${root}.5010"`), "the requested event is on the page");
          assert.ok(!page.includes(`data-event="${root}.5009"`), "the records past the cut are not");
        },
      );

      await t.step("a connection that stops getting answers is replaced, not held for good", async () => {
        const obs = await observer({
          LOG_DUMPER_DB_PORT: String(proxy.port),
          LOG_DUMPER_QUERY_TIMEOUT_MS: "1000",
        });
        ok(await obs.get("/"), "through the proxy");
        proxy.stall();
        const stalled = await obs.get("/");
        assert.notEqual(stalled, "timeout", "a request on a stalled connection got an answer");
        if (stalled !== "timeout") assert.equal(stalled.status, 503, stalled.text.slice(0, 400));
        // New connections pass: the next reads are answered again.
        await waitFor(
          async () => {
            const page = await obs.get("/", 10_000);
            return page !== "timeout" && page.status === 200;
          },
          20_000,
          "the observer to read again",
        );
      });

      await t.step(
        "records folding thousands of parts make a bounded page that says it was cut",
        async () => {
          const folded = (n: number) =>
            JSON.stringify({
              parts: Array.from({ length: n }, (_, i) => [String(i + 1), "prd", "read", null, 0, 1]),
            });
          const many = folded(3000);
          for (let i = 0; i < 50; i++) await insert(schema, `fan${i}`, many);
          await insert(schema, "huge", folded(100_000));
          const obs = observers[0]!;
          const page = ok(await obs.get("/"), "events");
          const rows = page.split('<tr class="lvl-').length - 1;
          assert.ok(rows <= 1000, `${rows} rows`);
          assert.ok(page.length < 2_000_000, `${page.length} characters`);
          assert.ok(page.includes('id="cut"'), "the page says it was cut");
          assert.ok(page.includes("99,900 more parts not shown"), "the page counts the parts left folded");
          const chain = ok(await obs.get("/chain?id=huge.77777"), "chain");
          assert.ok(chain.length < 500_000, `${chain.length} characters`);
          assert.ok(chain.includes('data-event="huge.77777"'), "the part asked for is shown");
        },
      );

      await t.step("the IPL list pages on instead of stopping at 20", async () => {
        for (let i = 0; i < 25; i++) await insert(schema, `ipl${i}`, JSON.stringify({ steps: [] }), "ipl");
        const obs = observers[0]!;
        const page = ok(await obs.get("/ipl"), "ipl");
        assert.match(page, /20 IPL records, newest first/);
        const older = /id="older" href="([^"]+)"/.exec(page);
        assert.ok(older, "a link to older IPL records");
        assert.match(ok(await obs.get(older[1]!.replaceAll("&#38;", "&")), "older ipl"), /IPL records/);
      });

      await t.step("filtered lists do not reload themselves (each load may scan the log)", async () => {
        const obs = observers[0]!;
        assert.match(ok(await obs.get("/"), "newest"), /http-equiv="refresh"/);
        const filtered = ok(await obs.get("/?template=prd"), "filtered");
        assert.ok(!filtered.includes("http-equiv"), "a filtered list reloads");
      });

      await t.step(
        "a filter time the store cannot read (year 10000) is named, not silently used",
        async () => {
          const page = ok(await observers[0]!.get("/?since=%2B010000-01-01T00%3A00"), "bad since");
          assert.match(
            page,
            /Ignored since “\+010000-01-01T00:00”: not a date and time in the years 1000–9999/,
          );
        },
      );

      await t.step("a live list whose store is down tries again by itself", async () => {
        const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = (closed.addr as Deno.NetAddr).port;
        closed.close();
        const obs = await observer({ LOG_DUMPER_DB_PORT: String(port), LOG_DUMPER_REFRESH: "3" });
        const page = await obs.get("/");
        assert.notEqual(page, "timeout");
        if (page === "timeout") return;
        assert.equal(page.status, 503);
        assert.match(page.text, /http-equiv="refresh" content="3"/);
      });

      // From here on every read of the view takes 5 s (one row, SLEEP(5) per row).
      await sql(schema, "DELETE FROM ms_logs");
      await insert(schema, "slow", "{}");
      const view = await sql<Array<Record<string, string>>>(schema, "SHOW CREATE VIEW v_ms_logs");
      const select = /AS (select[\s\S]*)$/i.exec(Object.values(view[0]!)[1]!)![1]!;
      await sql(schema, `CREATE OR REPLACE VIEW v_ms_logs AS ${select} WHERE SLEEP(5) = 0`);

      await t.step("a statement that runs past the query timeout is ended and reported", async () => {
        const obs = await observer({ LOG_DUMPER_QUERY_TIMEOUT_MS: "1000", LOG_DUMPER_REFRESH: "0" });
        const page = await obs.get("/?template=prd");
        assert.notEqual(page, "timeout");
        if (page === "timeout") return;
        assert.equal(page.status, 503, page.text.slice(0, 400));
        assert.match(page.text, /Log store unavailable/);
        assert.ok(page.ms < 4000, `answered after ${page.ms} ms`);
      });

      await t.step("a reader that goes away stops its statement", async () => {
        const obs = await observer({ LOG_DUMPER_QUERY_TIMEOUT_MS: "30000" });
        const running = () =>
          sql<Array<{ n: number }>>(
            undefined,
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND = 'Query'",
            [user],
          ).then((rows) => Number(rows[0]!.n));
        const reader = new AbortController();
        const page = fetch(`${obs.url}/?template=prd`, { signal: reader.signal }).catch(() => "aborted");
        await waitFor(async () => await running() > 0, 5_000, "the statement to run");
        reader.abort();
        assert.equal(await page, "aborted");
        const since = Date.now();
        await waitFor(async () => await running() === 0, 4_000, "the statement to be stopped");
        assert.ok(Date.now() - since < 4000);
      });
    } finally {
      for (const obs of observers) await obs.stop().catch(() => {});
      proxy.close();
      for (const host of ["%", "localhost"]) {
        await sql(undefined, `DROP USER IF EXISTS '${user}'@'${host}'`).catch(() => {});
      }
      await dropSchema({ schema });
    }
  },
});
