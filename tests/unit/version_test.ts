import assert from "node:assert/strict";
import { PROTOCOL_VERSION, VERSION } from "../../src/version.ts";

Deno.test("VERSION equals the version in deno.json", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(typeof denoJson.version, "string");
  assert.equal(VERSION, denoJson.version);
  assert.match(VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
});

Deno.test("PROTOCOL_VERSION is the wire version 1 the request schema accepts", () => {
  assert.equal(PROTOCOL_VERSION, 1);
});
