/**
 * Deep merge of TOML layers that remembers which file set each key path, so
 * a validation error can name the file it came from.
 *
 * @module
 */

/** A plain object parsed from TOML. */
export type Table = Record<string, unknown>;

/** Key path (dotted) → file that last set it. */
export type Origins = Map<string, string>;

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/**
 * Merges `layer` into `base` (both left untouched) and records in `origins`
 * the `file` of every key path the layer sets. Tables merge key by key;
 * arrays and scalars replace.
 */
export function deepMerge(
  base: Table,
  layer: Table,
  file: string,
  origins: Origins,
  prefix = "",
): Table {
  const out: Table = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix ? `${prefix}.${key}` : key;
    origins.set(path, file);
    const prev = out[key];
    out[key] = isTable(prev) && isTable(value) ? deepMerge(prev, value, file, origins, path) : value;
  }
  return out;
}

/** The file that set `path` or its nearest parent, or `fallback`. */
export function originOf(origins: Origins, path: string, fallback: string): string {
  for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const file = origins.get(p);
    if (file) return file;
  }
  return fallback;
}

/** Recursively freezes an object graph and returns it typed as read-only. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
