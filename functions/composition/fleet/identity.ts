// The source's identity: what decides which bytes a cache holds. It names the
// volume (a new identity gets a new claim, so a changed revision never
// overwrites verified bytes) and says whether the source is already pinned.
import type { Artifact } from "../../api/artifact.ts";
import { canonicalJson, sha256Hex } from "../../common/canonical-json.ts";
import { sourceKindOf } from "../../sources/registry.ts";
import type { JsonValue } from "../../sdk/types.ts";

/** What determines the bytes, and nothing else (each source kind says what of its spec does: functions/sources/). */
export function sourceIdentity(a: Artifact): JsonValue {
  return { kind: a.kind, layout: a.layout, engine: a.engine ?? null, source: sourceKindOf(a.source)?.identity() ?? null };
}

/** A short, stable hash of the identity (10 hex digits: 40 bits, ample among one cache's revisions). */
export function identityHash(a: Artifact): string {
  return sha256Hex(canonicalJson(sourceIdentity(a))).slice(0, 10);
}

/** The source in one line, for `kubectl get`, conditions and events; never a credential. */
export function sourceLine(a: Artifact): string {
  return sourceKindOf(a.source)?.line() ?? "(no source)";
}

/**
 * The immutable revision a source names by itself, if it does: a Hugging Face commit, an OCI digest, HTTP files
 * all pinned by sha256, inline content. A branch, tag, S3 prefix or ConfigMap can change under us: pinned only once
 * a cluster has verified what it resolved to.
 */
export function immutableRevision(a: Artifact): string | undefined {
  return sourceKindOf(a.source)?.immutableRevision();
}

/** Whether a replica's reported revision is comparable with a source pin (same format as the hydrator reports). */
export function revisionComparable(a: Artifact): boolean {
  return sourceKindOf(a.source)?.revisionComparable ?? false;
}
