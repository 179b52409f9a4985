/**
 * Live reload of templates and access grants: load the config again, load
 * and verify a new registry snapshot, then swap both in. Requests in flight
 * keep the snapshot they started with; a reload that fails keeps the old
 * snapshot and grants and says why. Other config changes wait for a restart.
 *
 * @module
 */
import type { AccessConfig, Config } from "../config/mod.ts";
import { createRegistry } from "../templates/mod.ts";
import { loadRoleTemplates } from "./role_templates.ts";
import { verifyStores } from "./verify_stores.ts";
import type { IplContext } from "./context.ts";

/** The outcome of one reload. */
export interface ReloadResult {
  ok: boolean;
  /** Templates now served (the old count when the reload failed). */
  templates: number;
  /** The access control now in force, e.g. `on (3 users, 1 admins)` (absent before the broker pool). */
  access?: string;
  /** Why the reload was refused. */
  error?: string;
}

/** Config keys derived from where and how the config was read, not settings of their own. */
const DERIVED = new Set(["access", "env", "configDir", "files", "templatesDir"]);

/** The config sections whose new values a reload does not apply (they need a restart). */
function unapplied(running: Config, loaded: Config): string[] {
  return Object.keys(loaded).filter((key) =>
    !DERIVED.has(key) &&
    JSON.stringify(loaded[key as keyof Config]) !== JSON.stringify(running[key as keyof Config])
  );
}

function describeAccess(access: AccessConfig): string {
  const users = Object.keys(access.users).length;
  return access.enabled ? `on (${users} users, ${access.admin_users.length} admins)` : "off";
}

/** The reload of each node that runs or waits last. */
const queued = new WeakMap<IplContext, Promise<unknown>>();

/**
 * Loads, verifies and swaps the registry of a running node. Reloads run one at a time, in the
 * order asked (SIGHUP, the admin command): one that read older files but verified slower would
 * otherwise swap them in over a newer one, and both would say ok.
 */
export function reloadTemplates(ctx: IplContext): Promise<ReloadResult> {
  const next = (queued.get(ctx) ?? Promise.resolve()).catch(() => {}).then(() => reloadOnce(ctx));
  queued.set(ctx, next);
  return next;
}

async function reloadOnce(ctx: IplContext): Promise<ReloadResult> {
  const current = ctx.registry!.current().list().length;
  try {
    // The config first: files that no longer load refuse the whole reload, templates too.
    const loaded = ctx.reloadConfig?.();
    const templates = await loadRoleTemplates(ctx);
    const problems = await verifyStores(ctx.adapters, templates);
    if (problems.length) {
      const p = problems[0]!;
      throw new Error(
        `${problems.length} template problem(s); first: template "${p.template}" ${p.path}: ${p.message}`,
      );
    }
    ctx.registry!.swap(createRegistry(templates));
    ctx.templates = templates;
    let access: string | undefined;
    if (loaded && ctx.access) {
      ctx.access.replace(loaded.access);
      ctx.config = Object.freeze({ ...ctx.config, access: loaded.access });
      access = describeAccess(loaded.access);
      const later = unapplied(ctx.config, loaded);
      if (later.length) {
        ctx.logger.warn({ sections: later }, "config changes outside [access] take effect at the next start");
      }
    }
    ctx.logger.info({ templates: templates.length, access }, "templates reloaded");
    return { ok: true, templates: templates.length, access };
  } catch (error) {
    const message = (error as Error).message;
    ctx.logger.error({ err: message }, "template reload refused; keeping the current snapshot");
    return { ok: false, templates: current, error: message };
  }
}
