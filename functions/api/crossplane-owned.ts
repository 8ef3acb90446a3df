// What Crossplane itself writes into an XR's spec. A live Crossplane v2 sets
// spec.crossplane (compositionRef, compositionRevisionRef,
// compositionUpdatePolicy, resourceRefs, ...) on every XR before any function
// runs; `crossplane render` does not, so only a live control plane shows it.
// It is Crossplane's, not ours: the function neither validates nor copies it,
// and our own spec stays strict about every other unknown field.
import type { JsonObject, JsonValue } from "../sdk/types.ts";

/** The spec fields Crossplane owns on a v2 (namespaced or cluster) XR. */
export const CROSSPLANE_SPEC_FIELDS = ["crossplane"] as const;

/** The spec without the fields Crossplane owns; anything that is not an object is returned as it is, for the schema to refuse. */
export function ownSpec(spec: JsonValue | undefined): JsonValue | undefined {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return spec;
  const owned: ReadonlySet<string> = new Set(CROSSPLANE_SPEC_FIELDS);
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !owned.has(k))) as JsonObject;
}
