/**
 * The registry: an immutable snapshot of the loaded templates. A reload
 * builds a new snapshot and swaps the holder's reference in one assignment,
 * so a request in flight keeps the snapshot it started with.
 *
 * @module
 */
import type { Template } from "./loader.ts";

/**
 * The templates the admin role serves (`[admin] templates_dir` and the log store's `mst`): granted by
 * name only, whichever exchange a request for one comes through (a role may bind brokers on both).
 */
const adminTemplates = new WeakSet<Template>();

/** Marks `template` as one of the admin role's (see {@link isAdminTemplate}). */
export function markAdminTemplate(template: Template): void {
  adminTemplates.add(template);
}

/** True for a template the admin role serves: access control grants it by name only. */
export function isAdminTemplate(template: Template): boolean {
  return adminTemplates.has(template);
}

/** An immutable set of templates by name. */
export interface Registry {
  /** The template named `name`, or undefined. */
  get(name: string): Template | undefined;
  /** All templates, sorted by name. */
  list(): readonly Template[];
  /** When the snapshot was built (ms since epoch). */
  readonly loadedAt: number;
}

/** Builds an immutable registry snapshot. */
export function createRegistry(templates: readonly Template[], now = Date.now()): Registry {
  const byName = new Map(templates.map((t) => [t.name, t]));
  const sorted = Object.freeze([...templates].sort((a, b) => a.name.localeCompare(b.name)));
  return Object.freeze({
    get: (name: string) => byName.get(name),
    list: () => sorted,
    loadedAt: now,
  });
}

/** Holds the current snapshot; `swap` replaces it atomically. */
export interface RegistryHolder {
  /** The snapshot new requests use. */
  current(): Registry;
  /** Installs `next` for every request that starts after this call. */
  swap(next: Registry): void;
}

/** Creates a holder around `initial`. */
export function createRegistryHolder(initial: Registry): RegistryHolder {
  let snapshot = initial;
  return {
    current: () => snapshot,
    swap: (next) => {
      snapshot = next;
    },
  };
}
