import assert from "node:assert/strict";
import { hostAllowed } from "../../src/http/mod.ts";
import { hostWellFormed } from "../../src/http/host_check.ts";
import { hostAllowed as observerHostAllowed } from "../../utilities/log_dumper/host_check.ts";

/** Host header, names allowed besides IP literals and localhost, whether it is answered. */
const CASES: Array<[string | null, string[], boolean]> = [
  ["127.0.0.1:9100", [], true],
  ["127.0.0.1", [], true],
  ["10.1.2.3:80", [], true],
  ["[::1]:9100", [], true],
  ["[::ffff:127.0.0.1]:80", [], true],
  ["localhost:9100", [], true],
  ["LOCALHOST", [], true],
  // What a page reached through a rebound DNS name sends.
  ["evil.example:9100", [], false],
  ["evil.example", ["127.0.0.1"], false],
  ["localhost.evil.example", [], false],
  ["127.0.0.1.nip.io", [], false],
  ["evil.example.", ["evil.example"], false],
  // The bind host, and names an operator allowed, in any case.
  ["beds-node-1:9100", ["beds-node-1"], true],
  ["Beds-Node-1:9100", ["beds-node-1"], true],
  ["observer.internal", ["127.0.0.1", "Observer.Internal"], true],
  ["[::1]:80", ["::1"], true],
  // Malformed: a port that is not one, userinfo, paths, nothing.
  ["localhost:http", [], false],
  ["evil@127.0.0.1", [], false],
  ["127.0.0.1/x", [], false],
  ["127.0.0.1:99999x", [], false],
  ["127.0.0.1:99999", [], false],
  ["", [], false],
  ["999.0.0.1", [], false],
  // No Host at all: no browser sends that (HTTP/1.0 tools), so it cannot come from a rebound page.
  [null, [], true],
];

Deno.test("hostAllowed() answers IP literals, localhost and the names given, and refuses other names", async (t) => {
  for (
    const [name, allowed] of [["src/http", hostAllowed], [
      "the observer's copy",
      observerHostAllowed,
    ]] as const
  ) {
    await t.step(name, () => {
      for (const [header, names, expected] of CASES) {
        assert.equal(allowed(header, names), expected, `${header} with ${JSON.stringify(names)}`);
      }
    });
  }
});

Deno.test("the observer's host_check.ts is src/http/host_check.ts but for its module note", async () => {
  const code = async (path: string) =>
    (await Deno.readTextFile(new URL(path, import.meta.url))).replace(/^\/\*\*[\s\S]*?\*\/\n/, "");
  assert.equal(
    await code("../../utilities/log_dumper/host_check.ts"),
    await code("../../src/http/host_check.ts"),
  );
});

Deno.test("hostWellFormed() takes any host name or IP literal with a port, and nothing a URL would read as a path", () => {
  for (const host of [null, "gw.example", "gw.example:8080", "127.0.0.1:65535", "[::1]:80", "beds_node-1"]) {
    assert.ok(hostWellFormed(host), String(host));
  }
  for (
    const host of [
      "127.0.0.1/v1/prd/read?",
      "127.0.0.1\\v1",
      "x?y",
      "x#y",
      "x:99999",
      "[::1",
      "a%zz",
      "u@h",
      "",
    ]
  ) {
    assert.ok(!hostWellFormed(host), host);
  }
});
