/**
 * A stable fingerprint of the configuration without its secrets, recorded
 * with every IPL so two nodes (or two boots) can be compared.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { redact } from "./redact.ts";

/** JSON with object keys sorted, so equal configs give equal text. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** SHA-256 (hex) of the redacted configuration. */
export function configDigest(config: unknown): string {
  return createHash("sha256").update(JSON.stringify(canonical(redact(config)))).digest("hex");
}
