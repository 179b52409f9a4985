/**
 * The templates a node serves: those of `[templates] dir`, and on a role
 * with brokers bound on the admin exchange also the admin templates
 * (`[admin] templates_dir`: fleet status, system log, graphs) and the log
 * store's `mst`, pointed at the store the config chose (when the node has it). Loaded alike at
 * start-up and on `templates reload`.
 *
 * @module
 */
import { resolvePath } from "../config/mod.ts";
import { loadLogStoreTemplate } from "../logstore/mod.ts";
import { loadTemplates, markAdminTemplate, recTemplates, type Template } from "../templates/mod.ts";
import type { IplContext } from "./context.ts";
import { roleBrokers } from "./roles.ts";

/** True when a broker of the node's role binds on the admin exchange. */
export function servesAdminExchange(ctx: IplContext): boolean {
  return roleBrokers(ctx).some((b) => b.config.exchange === "admin" && b.config.bindings.length > 0);
}

/** Loads the node's templates and checks that it has every store they name. */
export async function loadRoleTemplates(ctx: IplContext): Promise<Template[]> {
  const { config } = ctx;
  const templates = await loadTemplates(config.templatesDir);
  if (servesAdminExchange(ctx)) {
    const admin = await loadTemplates(resolvePath(config.configDir, config.admin.templates_dir));
    const store = config.logstore.store;
    // Without that store (not configured) the logstore step warns; mst is not served. An optional
    // MongoDB that is down is still there: mst on it answers DB_UNAVAILABLE until it is up.
    if ((store === "mariadb" || store === "mongodb") && ctx.adapters.has(store)) {
      admin.push(
        await loadLogStoreTemplate({
          dir: resolvePath(config.configDir, config.logstore.templates_dir),
          store,
          database: config.logstore.database,
        }),
      );
    }
    for (const t of admin) {
      const clash = templates.find((other) => other.name === t.name);
      if (clash) throw new Error(`Admin template "${t.name}" (${t.file}) has the name of ${clash.file}`);
      markAdminTemplate(t);
      templates.push(t);
    }
  }
  // A part's limit past the read limit fails every request of its REL: say so at start instead.
  const maxRead = config.limits.max_read_limit;
  for (const t of templates) {
    for (const part of t.kind === "rel" ? t.parts : []) {
      if ((part.spec.limit ?? 0) > maxRead) {
        throw new Error(
          `Template "${t.name}" (${t.file}): parts.${part.name}.limit is ${part.spec.limit}, more than ` +
            `[limits] max_read_limit (${maxRead})`,
        );
      }
    }
  }
  // A configured store is there even while down (an optional MongoDB connects later): only one
  // the config lacks is missing.
  for (const t of recTemplates(templates)) {
    if (!ctx.adapters.has(t.store)) {
      throw new Error(
        `Template "${t.name}" (${t.file}) needs store ${t.store}, which this node does not have ` +
          `(no [databases.${t.store}] in its config)`,
      );
    }
  }
  return templates;
}
