import assert from "node:assert/strict";
import { esc, eventsPage, iplPage } from "../../utilities/log_dumper/render.ts";
import { chainPage } from "../../utilities/log_dumper/render_chain.ts";
import { buildTree } from "../../utilities/log_dumper/tree.ts";
import { createHandler, filterFrom } from "../../utilities/log_dumper/server.ts";
import { observerConfig } from "../../utilities/log_dumper/config.ts";
import { type Listener, restartDelay, serveKeptUp } from "../../utilities/log_dumper/listener.ts";
import { filterSql } from "../../utilities/log_dumper/mariadb_source.ts";
import { type LogRecord, type LogSource, StoreError } from "../../utilities/log_dumper/source.ts";
import { type LogReader, matchesFilter, unfolding } from "../../utilities/log_dumper/unfold.ts";

const XSS = `<script>alert("x")</script>`;

function record(event: string, at: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id: 1,
    event,
    parent: null,
    kind: "request",
    level: "info",
    at,
    node: "n1",
    broker: "rBroker",
    template: "prd",
    op: "read",
    code: null,
    action: "reply",
    attempt: 1,
    ms: 2.5,
    rows: 1,
    message: null,
    doc: {},
    ...extra,
  };
}

Deno.test("the observer imports nothing from src/ (it must run while BEDS is down)", async () => {
  const dir = new URL("../../utilities/log_dumper/", import.meta.url);
  const specifier = /(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']/g;
  let files = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    for (const match of text.matchAll(specifier)) {
      const target = match[1] ?? match[2]!;
      assert.ok(
        target.startsWith("./") || !/[./]/.test(target[0]!),
        `${entry.name} imports "${target}": only its own files and packages are allowed`,
      );
      assert.ok(!target.includes("src/"), `${entry.name} imports "${target}"`);
    }
  }
  assert.ok(files >= 5, "found the observer's files");
});

Deno.test("esc() escapes everything that could open markup", () => {
  assert.equal(esc(XSS), "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
  assert.equal(esc(`a'b\`c&`), "a&#39;b&#96;c&#38;");
  assert.equal(esc(null), "");
});

Deno.test("eventsPage() renders records escaped, with chain links and paging", async (t) => {
  const records = [
    record("e-2", "2025-01-02T00:00:01.000Z", {
      id: 7,
      template: XSS,
      code: "NOT_FOUND",
      message: XSS,
      level: "error",
    }),
    record("e-1", "2025-01-02T00:00:00.000Z", { id: 6 }),
  ];
  const page = eventsPage({
    records,
    filter: { node: `"><script>`, level: "error" },
    pageSize: 2,
    refreshSeconds: 5,
    paused: false,
  });
  await t.step("no raw markup from the data", () => {
    assert.ok(!page.includes("<script>"), "a <script> from the store or the query string stays text");
    assert.ok(page.includes("&#60;script&#62;alert"));
  });
  await t.step("links each event to its chain and offers the next page", () => {
    assert.ok(page.includes('href="/chain?id=e-2"'));
    assert.match(page, /id="older" href="\/\?node=[^"]*&#38;level=error&#38;before=6"/);
  });
  await t.step(
    "a full page with a fan-out's folded parts (rows sharing its id) still offers the next",
    () => {
      const folded = [
        record("f-1", "2025-01-02T00:00:02.000Z", { id: 9 }),
        record("f-1.1", "2025-01-02T00:00:02.000Z", { id: 9 }),
        record("f-1.2", "2025-01-02T00:00:02.000Z", { id: 9 }),
        record("e-1", "2025-01-02T00:00:00.000Z", { id: 6 }),
      ];
      const full = eventsPage({ records: folded, filter: {}, pageSize: 2, refreshSeconds: 0, paused: false });
      assert.match(full, /id="older" href="\/\?before=6"/);
      const short = eventsPage({
        records: folded.slice(0, 3),
        filter: {},
        pageSize: 2,
        refreshSeconds: 0,
        paused: false,
      });
      assert.ok(!short.includes('id="older"'), "three rows of one stored record are not a full page of two");
    },
  );
  await t.step("refreshes itself on the first, unfiltered page only", () => {
    const newest = eventsPage({ records, filter: {}, pageSize: 2, refreshSeconds: 5, paused: false });
    assert.match(newest, /http-equiv="refresh" content="5"/);
    assert.ok(!page.includes("http-equiv"), "a filtered list does not reload (each load may scan the log)");
    assert.match(page, /a filtered list does not refresh itself/);
    const older = eventsPage({
      records,
      filter: { before: 6 },
      pageSize: 2,
      refreshSeconds: 5,
      paused: false,
    });
    assert.ok(!older.includes("http-equiv"));
    const paused = eventsPage({ records, filter: {}, pageSize: 2, refreshSeconds: 5, paused: true });
    assert.ok(!paused.includes("http-equiv"));
  });
});

Deno.test("buildTree() puts parts that started in the same millisecond in their number's order", () => {
  const root = "000000001-n-b-0000";
  const parts = [10, 2, 1, 24].map((n) => record(`${root}.${n}`, "2025-01-02T00:00:00.100Z"));
  const tree = buildTree([record(root, "2025-01-02T00:00:00.000Z"), ...parts]);
  assert.deepEqual(tree[0]!.children.map((c) => c.event.slice(root.length)), [".1", ".2", ".10", ".24"]);
});

Deno.test("buildTree() makes one placeholder per record for deep made-up parents, not one per word", () => {
  const root = "000000001-n-b-0000";
  const deep = (i: number) => `${root}.${Array(30).fill(`p${i}`).join(".")}.leaf`;
  const tree = buildTree([
    record(root, "2025-01-02T00:00:00.000Z"),
    ...Array.from({ length: 50 }, (_, i) => record(deep(i), "2025-01-02T00:00:00.100Z")),
  ]);
  const count = (nodes: readonly { children: readonly unknown[] }[]): number =>
    nodes.reduce((n, node) => n + 1 + count(node.children as { children: unknown[] }[]), 0);
  assert.equal(count(tree), 101);
});

Deno.test("buildTree() nests a chain by id and chainPage() shows timings and errors", () => {
  const root = "000000001-n-b-0000";
  const tree = buildTree([
    record(`${root}.2`, "2025-01-02T00:00:00.030Z", { code: "DB_ERROR", message: XSS }),
    record(root, "2025-01-02T00:00:00.000Z", { ms: 40 }),
    record(`${root}.1`, "2025-01-02T00:00:00.010Z"),
    record(`${root}.r2.1`, "2025-01-02T00:00:01.000Z"),
  ]);
  assert.equal(tree.length, 1);
  assert.deepEqual(tree[0]!.children.map((c) => c.event), [`${root}.1`, `${root}.2`, `${root}.r2`]);
  assert.equal(tree[0]!.children[2]!.record, undefined, "the unrecorded link is a placeholder");
  const page = chainPage(root, tree);
  assert.ok(!page.includes("<script>"));
  assert.match(page, /took 40 ms/);
  assert.match(page, /\+30 ms/);
  assert.match(page, /<li class="node err" data-event="[^"]+\.2">/);
  assert.match(page, /class="err">DB_ERROR<\/span>: &#60;script&#62;/);
  assert.match(page, /\(not recorded\)/);
});

Deno.test("iplPage() lists the steps of each IPL record", () => {
  const page = iplPage([record("i-1", "2025-01-02T00:00:00.000Z", {
    kind: "ipl",
    action: "ok",
    doc: {
      role: "appServer",
      env: "test",
      configDigest: "ab12",
      steps: [{ step: "logstore", outcome: "warn", ms: 3, warnings: [XSS] }],
    },
  })], { pageSize: 20 });
  assert.match(page, /<td>logstore<\/td>/);
  assert.ok(!page.includes("<script>"));
});

Deno.test("filterFrom() keeps only known values", () => {
  const { filter, ignored } = filterFrom(
    new URLSearchParams("level=fatal&kind=ipl&status=error&before=12&node=a&code="),
  );
  assert.deepEqual(ignored, []);
  assert.deepEqual(filter, {
    node: "a",
    level: undefined,
    kind: "ipl",
    template: undefined,
    code: undefined,
    status: "error",
    since: undefined,
    until: undefined,
    before: 12,
  });
});

Deno.test("filterSql() binds every value", () => {
  const { where, values } = filterSql({
    node: "x' OR 1=1 --",
    status: "ok",
    since: "2025-01-02T03:04",
    before: 9,
  });
  assert.equal(where, "WHERE node = ? AND code IS NULL AND level = 'info' AND at >= ? AND id < ?");
  assert.deepEqual(values, ["x' OR 1=1 --", "2025-01-02 03:04:00.000", 9]);
});

Deno.test("the observer handler is read-only and reports a store outage", async (t) => {
  const down: LogReader = {
    recent: () => Promise.reject(new StoreError(new Error(`connect ECONNREFUSED ${XSS}`))),
    chain: () => Promise.resolve({ records: [], cut: false }),
    close: () => Promise.resolve(),
  };
  const handle = createHandler({ source: down, pageSize: 10, refreshSeconds: 0 });
  await t.step("POST is refused", async () => {
    const response = await handle(new Request("http://127.0.0.1/", { method: "POST" }));
    assert.equal(response.status, 405);
    await response.body?.cancel();
  });
  await t.step("an outage is a 503 page, escaped, under a script-free CSP", async () => {
    const response = await handle(new Request("http://127.0.0.1/"));
    assert.equal(response.status, 503);
    assert.match(response.headers.get("content-security-policy")!, /default-src 'none'/);
    const body = await response.text();
    assert.ok(!body.includes("<script>"));
  });
  await t.step("a pool that gave up names the connection error behind it", async () => {
    const pooled: LogReader = {
      recent: () =>
        Promise.reject(
          new StoreError(
            new Error("pool failed to retrieve a connection from pool\n    (pool connections: active=0)", {
              cause: new Error("Access denied for user 'beds_observer'@'127.0.0.1'\n    (pool connections)"),
            }),
          ),
        ),
      chain: () => Promise.resolve({ records: [], cut: false }),
      close: () => Promise.resolve(),
    };
    const response = await createHandler({ source: pooled, pageSize: 10, refreshSeconds: 0 })(
      new Request("http://127.0.0.1/"),
    );
    assert.equal(response.status, 503);
    assert.match(
      await response.text(),
      /pool failed to retrieve a connection from pool: Access denied for user &#39;beds_observer&#39;@&#39;127\.0\.0\.1&#39;/,
    );
  });
  await t.step("a bad chain id is a 400", async () => {
    const response = await handle(new Request("http://127.0.0.1/chain?id=%3Cx%3E"));
    assert.equal(response.status, 400);
    await response.body?.cancel();
  });
});

Deno.test("the observer handler answers 421 to a Host that is not an IP literal, localhost or allowed", async (t) => {
  const source: LogReader = {
    recent: () => Promise.resolve([record("secret-event", "2026-01-01T00:00:00.000Z")]),
    chain: () =>
      Promise.resolve({ records: [record("secret-event", "2026-01-01T00:00:00.000Z")], cut: false }),
    close: () => Promise.resolve(),
  };
  const handle = createHandler({ source, pageSize: 10, refreshSeconds: 0, hosts: ["observer.internal"] });
  const get = async (path: string, host: string) => {
    const response = await handle(new Request(`http://${host}${path}`, { headers: { host } }));
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  await t.step("a page on a rebound DNS name reads no log page", async () => {
    for (const path of ["/", "/chain?id=secret-event", "/ipl", "/favicon.ico"]) {
      const refused = await get(path, "rebind.evil.example:8089");
      assert.equal(refused.status, 421, path);
      assert.match(refused.type ?? "", /^text\/plain/);
      assert.ok(!refused.text.includes("secret-event"), path);
    }
  });
  await t.step("IP literals, localhost and allowed names are answered", async () => {
    for (const host of ["127.0.0.1:8089", "[::1]:8089", "localhost:8089", "OBSERVER.internal"]) {
      const page = await get("/", host);
      assert.equal(page.status, 200, host);
      assert.ok(page.text.includes("secret-event"), host);
    }
  });
});

Deno.test("serveKeptUp() logs an observer listener that failed and starts it again on its port", async () => {
  const started: Array<{ port: number; fail(error: Error): void }> = [];
  const listen = (options: Deno.ServeTcpOptions): Listener => {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const finished = new Promise<void>((res, rej) => [resolve, reject] = [res, rej]);
    started.push({ port: options.port!, fail: reject });
    return {
      addr: { transport: "tcp", hostname: options.hostname!, port: options.port || 40124 },
      finished,
      shutdown: () => (resolve(), finished.catch(() => {})),
      abort: () => (resolve(), finished.catch(() => {})),
    };
  };
  const lines: string[] = [];
  const server = serveKeptUp({
    hostname: "127.0.0.1",
    port: 0,
    handler: () => new Response("ok"),
    log: (line) => lines.push(line),
    listen,
    restartDelayMs: () => 10,
  });
  started[0]!.fail(new Error("Too many open files (os error 24)"));
  for (const since = Date.now(); started.length < 2 && Date.now() - since < 5_000;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(started.map((s) => s.port), [0, 40124]);
  assert.deepEqual(lines, [
    "observer listener failed: Too many open files (os error 24); starting it again in 10 ms",
    "observer listener started again on http://127.0.0.1:40124/",
  ]);
  await server.stop();
  await server.stopped;
  assert.deepEqual([0, 1, 9, 20].map(restartDelay), [100, 200, 30_000, 30_000]);
});

Deno.test("serveKeptUp().stop() is not held by a client that sent half a request body", async () => {
  const server = serveKeptUp({
    hostname: "127.0.0.1",
    port: 0,
    handler: async (request) => new Response(await request.text()),
    drainMs: 300,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    const head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n";
    await conn.write(new TextEncoder().encode(`${head}1234567`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const stopped = await Promise.race([
      server.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    assert.ok(stopped, "stop() returned within 5 s");
    assert.ok(performance.now() - started < 2_000, `stop() took ${performance.now() - started} ms`);
    // The connection was closed: a read ends.
    assert.equal(await conn.read(new Uint8Array(16)), null);
  } finally {
    conn.close();
  }
});

Deno.test("observerConfig() layers environment over TOML over defaults", async (t) => {
  await t.step("defaults bind to localhost", () => {
    const config = observerConfig({});
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 8089);
  });
  await t.step("environment wins over the file", () => {
    const config = observerConfig(
      { LOG_DUMPER_PORT: "9000", LOG_DUMPER_DB_PASSWORD: "s3cret" },
      '[server]\nport = 8100\nrefresh_seconds = 0\n[mariadb]\nuser = "ro"\ndatabase = "logs"\n',
    );
    assert.equal(config.port, 9000);
    assert.equal(config.refreshSeconds, 0);
    assert.deepEqual(config.mariadb, {
      host: "127.0.0.1",
      port: 3306,
      user: "ro",
      password: "s3cret",
      database: "logs",
    });
  });
  await t.step("allowed hosts come from a TOML array or a comma-separated variable", () => {
    assert.deepEqual(observerConfig({}).allowedHosts, []);
    const toml = '[server]\nallowed_hosts = ["observer.internal", "logs.example"]\n';
    assert.deepEqual(observerConfig({}, toml).allowedHosts, ["observer.internal", "logs.example"]);
    assert.deepEqual(
      observerConfig({ LOG_DUMPER_ALLOWED_HOSTS: " a.internal, ,b.internal " }, toml).allowedHosts,
      ["a.internal", "b.internal"],
    );
    assert.throws(
      () => observerConfig({}, "[server]\nallowed_hosts = 3\n"),
      /Invalid observer setting allowed_hosts: expected a list of host names/,
    );
  });
  await t.step("a bad port names the setting", () => {
    assert.throws(() => observerConfig({ LOG_DUMPER_PORT: "http" }), /Invalid observer setting port/);
  });
  await t.step("an empty variable is unset: the file's value stands", () => {
    const config = observerConfig(
      { LOG_DUMPER_PORT: "", LOG_DUMPER_HOST: "", LOG_DUMPER_DB_PASSWORD: "", LOG_DUMPER_REFRESH: "" },
      '[server]\nport = 8100\nhost = "0.0.0.0"\nrefresh_seconds = 5\n[mariadb]\npassword = "from-file"\n',
    );
    assert.equal(config.port, 8100);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.refreshSeconds, 5);
    assert.equal(config.mariadb.password, "from-file");
  });
});

Deno.test("unfolding() shows a fan-out's folded parts as records of their own, filtered like any", async (t) => {
  const parent = record("p", "2025-01-01T00:00:00.000Z", {
    id: 7,
    template: "dsh",
    rows: 3,
    doc: {
      user: "u",
      parts: [["1", "prd", "read", null, 0.5, 1], ["2", "cus", "call:total", "total", 1, 1], "junk"],
    },
  });
  const failed = record("p.3", "2025-01-01T00:00:00.000Z", { id: 8, parent: "p", code: "NOT_FOUND" });
  const store: LogSource = {
    // As a store would: its own rows by the filter (case ignored, as MariaDB's collation does).
    recent: (filter) => Promise.resolve([failed, parent].filter((r) => matchesFilter(r, filter))),
    chain: () => Promise.resolve([parent, failed]),
    events: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
  const source = unfolding(store);
  await t.step("a chain has every part, each under its parent with the parent's time and node", async () => {
    const { records: chain, cut } = await source.chain("p.2");
    assert.equal(cut, false);
    assert.deepEqual(chain.map((r) => [r.event, r.parent, r.template, r.op]), [
      ["p", null, "dsh", "read"],
      ["p.1", "p", "prd", "read"],
      ["p.2", "p", "cus", "call:total"],
      ["p.3", "p", "prd", "read"],
    ]);
    assert.deepEqual(chain[0]!.doc, { user: "u" });
    assert.deepEqual(chain[2]!.doc, { call: "total" });
    assert.ok(chain.slice(1, 3).every((r) => r.id === 7 && r.node === "n1" && r.at === parent.at));
  });
  await t.step("a filter applies to the parts once unfolded", async () => {
    // The store finds a folded part through its parent's record only (README, log store).
    const prd = await source.recent({ template: "prd" }, 10);
    assert.deepEqual(prd.map((r) => r.event), ["p.3"]);
    const dsh = await source.recent({ template: "dsh" }, 10);
    assert.deepEqual(dsh.map((r) => r.event), ["p"]);
    const ofNode = await source.recent({ node: "n1" }, 10);
    assert.deepEqual(ofNode.map((r) => r.event), ["p.3", "p", "p.1", "p.2"]);
    const errors = await source.recent({ status: "error" }, 10);
    assert.deepEqual(errors.map((r) => r.event), ["p.3"]);
  });
  await t.step("a filter in other letter case finds what the store found, parts alike", async () => {
    assert.deepEqual((await source.recent({ template: "PRD" }, 10)).map((r) => r.event), ["p.3"]);
    assert.deepEqual((await source.recent({ code: "not_found" }, 10)).map((r) => r.event), ["p.3"]);
    assert.deepEqual((await source.recent({ node: "N1" }, 10)).map((r) => r.event), [
      "p.3",
      "p",
      "p.1",
      "p.2",
    ]);
  });
  await t.step("a part follows what the store matched of its parent, accents and all", async () => {
    // MariaDB's collation takes "N-Ä" for "n-a"; the parts are that record's.
    const accented = unfolding({ ...store, recent: () => Promise.resolve([{ ...parent, node: "n-a" }]) });
    assert.deepEqual((await accented.recent({ node: "N-Ä" }, 10)).map((r) => r.event), ["p", "p.1", "p.2"]);
  });
});
