/**
 * Templates: TOML schema, loader with file-and-key errors, per-field value
 * checks and the immutable registry snapshot.
 *
 * @example
 * ```ts
 * import { createRegistry, loadTemplates } from "./mod.ts";
 * const registry = createRegistry(await loadTemplates("templates"));
 * console.log(registry.list().map((t) => t.name));
 * ```
 *
 * @module
 */
export { compileTemplate, loadTemplates, type RecTemplate } from "./loader.ts";
export { createRegistry, createRegistryHolder, type Registry, type RegistryHolder } from "./registry.ts";
export { type FieldCheck, fieldCheck } from "./fields.ts";
export {
  type CallSpec,
  FIELD_TYPES,
  type FieldSpec,
  type ProcedureOpSpec,
  type ReadOpSpec,
  recTemplateSchema,
} from "./schema.ts";
