import assert from "node:assert/strict";
import type { Adapter } from "../../src/adapters/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import type { IplContext } from "../../src/ipl/context.ts";
import { reloadTemplates } from "../../src/ipl/reload.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { createRegistry, createRegistryHolder, loadTemplates } from "../../src/templates/mod.ts";
import { templatesWith } from "../helpers/files.ts";

Deno.test("reloadTemplates() runs reloads in the order asked: a slow older one never swaps in over a newer one", async () => {
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const dir = await templatesWith(root, {});
  try {
    const config = loadConfig({ dir: `${root}/config`, environ: { BEDS_ENV: "test" } });
    let verifies = 0;
    let verifying = () => {};
    const firstVerifying = new Promise<void>((resolve) => verifying = resolve);
    // The first reload's catalog check is slow, the second's quick.
    const adapter = {
      store: "mariadb",
      verify: () => {
        verifying();
        return new Promise((resolve) => setTimeout(() => resolve([]), verifies++ === 0 ? 300 : 10));
      },
    } as unknown as Adapter;
    const ctx = {
      config: { ...config, templatesDir: dir },
      role: "appServer",
      logger: silentLogger(),
      adapters: new Map([["mariadb", adapter]]),
      registry: createRegistryHolder(createRegistry(await loadTemplates(dir))),
    } as unknown as IplContext;
    const described = () => ctx.registry!.current().get("cus")!.description;
    const first = reloadTemplates(ctx);
    await firstVerifying; // the first has read the files
    const file = `${dir}/example_rec.toml`;
    await Deno.writeTextFile(
      file,
      (await Deno.readTextFile(file)).replace('description = "Customers"', 'description = "Customers, v2"'),
    );
    const second = reloadTemplates(ctx);
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.ok), [true, true]);
    assert.equal(described(), "Customers, v2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
