import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { createAccessPolicy } from "../../src/dispatch/mod.ts";
import { missingAdminGrants } from "../../src/ipl/broker_pool.ts";
import { MINIMAL_CONFIG } from "../helpers/config_text.ts";

/** The config of `toml` after the minimal one, and its access policy for the nodes' user "beds". */
function load(toml: string) {
  const dir = Deno.makeTempDirSync({ prefix: "beds_grants_cfg_" });
  try {
    Deno.writeTextFileSync(`${dir}/beds.toml`, `${MINIMAL_CONFIG}${toml}`);
    const config = loadConfig({ dir, environ: { BEDS_ENV: "test" } });
    return { config, access: createAccessPolicy({ config: config.access, nodeUser: "beds" }) };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("missingAdminGrants() names each admin send the nodes' own user is not granted", async (t) => {
  const sends = `[admin]\nreport_ms = 1000\nsyslog = true\n[logstore]\nstore = "admin"\n`;
  await t.step("access control off: nothing", () => {
    const { config, access } = load(sends);
    assert.deepEqual(missingAdminGrants(config, access), []);
  });
  await t.step("on, no grants: reports, lines and records, each named", () => {
    const { config, access } = load(`${sends}[access]\nenabled = true\n`);
    const warnings = missingAdminGrants(config, access);
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      /"beds" has no grant for create\.nst: its status reports are refused FORBIDDEN/,
    );
    assert.match(warnings[1]!, /call\.slg/);
    assert.match(warnings[2]!, /call\.mst/);
  });
  await t.step("on, granted by name: nothing; a wildcard does not cover them", () => {
    const granted = `[access.users.beds]\nallow = ["create.nst", "call.slg", "call.mst"]\n`;
    const { config, access } = load(`${sends}[access]\nenabled = true\n${granted}`);
    assert.deepEqual(missingAdminGrants(config, access), []);
    const wild = load(`${sends}[access]\nenabled = true\n[access.users.beds]\nallow = ["*.*"]\n`);
    assert.equal(missingAdminGrants(wild.config, wild.access).length, 3);
  });
  await t.step("what a node does not send needs no grant", () => {
    const { config, access } = load(`[access]\nenabled = true\n`);
    assert.deepEqual(missingAdminGrants(config, access), []);
  });
});
