/**
 * Live reload of templates: load and verify a new registry snapshot, then
 * swap it in one assignment. Requests in flight keep the snapshot they
 * started with; a reload that fails keeps the old snapshot and says why.
 *
 * @module
 */
import { createRegistry, recTemplates } from "../templates/mod.ts";
import { loadRoleTemplates } from "./role_templates.ts";
import type { IplContext } from "./context.ts";

/** The outcome of one reload. */
export interface ReloadResult {
  ok: boolean;
  /** Templates now served (the old count when the reload failed). */
  templates: number;
  /** Why the reload was refused. */
  error?: string;
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
    const templates = await loadRoleTemplates(ctx);
    const recs = recTemplates(templates);
    const problems = [];
    for (const adapter of ctx.adapters.values()) problems.push(...await adapter.verify(recs));
    if (problems.length) {
      const p = problems[0]!;
      throw new Error(
        `${problems.length} template problem(s); first: template "${p.template}" ${p.path}: ${p.message}`,
      );
    }
    ctx.registry!.swap(createRegistry(templates));
    ctx.templates = templates;
    ctx.logger.info({ templates: templates.length }, "templates reloaded");
    return { ok: true, templates: templates.length };
  } catch (error) {
    const message = (error as Error).message;
    ctx.logger.error({ err: message }, "template reload refused; keeping the current snapshot");
    return { ok: false, templates: current, error: message };
  }
}
