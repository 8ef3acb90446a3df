// Reading values out of unstructured objects by dot path (the Input's field
// paths) without trusting their shape: every read says what it found.
import type { JsonObject, JsonValue } from "../../sdk/types.ts";

export type PathRead = { found: false } | { found: true; value: JsonValue };

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value at `path` (e.g. `status.providerConfigRef.name`); a missing step is "not found", never an error. */
export function readPath(obj: JsonObject, path: string): PathRead {
  let cur: JsonValue = obj;
  for (const step of path.split(".")) {
    if (!isObject(cur) || !(step in cur)) return { found: false };
    cur = cur[step] as JsonValue;
  }
  // A null leaf is how Kubernetes clears a field: treat it as absent.
  return cur === null ? { found: false } : { found: true, value: cur };
}

export function str(v: JsonValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function obj(v: JsonValue | undefined): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}
