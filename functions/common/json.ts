// Reading unstructured JSON (a composed resource, an observed object, a
// request's context) without trusting its shape: each read returns what is
// there, or undefined.
import type { JsonObject, JsonValue } from "../sdk/types.ts";

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: JsonValue | undefined): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

export function str(v: JsonValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The value at `path` below `v` (e.g. field(o, "status", "phase")), or undefined where a step is missing. */
export function field(v: JsonValue | undefined, ...path: string[]): JsonValue | undefined {
  let cur = v;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

export type PathRead = { found: false } | { found: true; value: JsonValue };

/**
 * The value at a dot path (e.g. `status.providerConfigRef.name`, an Input's field path) and whether it was there; a
 * missing step is "not found", never an error.
 */
export function readPath(o: JsonObject, path: string): PathRead {
  let cur: JsonValue = o;
  for (const step of path.split(".")) {
    if (!isObject(cur) || !(step in cur)) return { found: false };
    cur = cur[step] as JsonValue;
  }
  // A null leaf is how Kubernetes clears a field: treat it as absent.
  return cur === null ? { found: false } : { found: true, value: cur };
}
