// Pinning: one set of bytes for the whole fleet. A source that names its
// bytes (commit, digest, sha256s) is pinned from the start; otherwise the
// first cluster that verifies the current volume fixes the revision and the
// manifest digest, the pin is written to status and read back on every call,
// and every replica gets it. The pin belongs to one source identity: change
// the revision (or anything else that changes the bytes) and the old pin no
// longer applies; the new identity is pinned afresh, the same way.
import type { Artifact } from "../../api/artifact.ts";
import type { Pin } from "../../api/modelcache.ts";
import type { ModelCacheReplicaStatus } from "../../api/replica.ts";
import { immutableRevision, revisionComparable } from "./identity.ts";
import { sourceKindOf } from "../../sources/registry.ts";
import type { ObservedReplica } from "./replicas.ts";

export const PINNED_FROM_SOURCE = "source";

/** Whether the replica's report is about the current volume (not an earlier revision's). */
export function reportsClaim(r: ObservedReplica, claimName: string): boolean {
  if (r.status.claimName !== undefined) return r.status.claimName === claimName;
  // A compact replica whose contract is not the one recorded, with no report yet, has said nothing about
  // any volume: not a rollout, just Pending.
  if (r.claimName === undefined && r.contractHash !== undefined) return true;
  return r.claimName === claimName;
}

function verified(s: ModelCacheReplicaStatus): s is ModelCacheReplicaStatus & { resolvedRevision: string; manifestDigest: string } {
  // With node copies the shared copy's own phase says whether its bytes are verified (the nodes copy exactly those).
  return (s.sharedPhase ?? s.phase) === "Ready" && s.drift !== true && !!s.resolvedRevision && !!s.manifestDigest;
}

export interface PinInputs {
  artifact: Artifact;
  identity: string;
  claimName: string;
  previous: Pin | undefined;
  /** Sorted by cluster name: "first" is deterministic when several verify in one reconcile. */
  replicas: readonly ObservedReplica[];
}

export function decidePin(p: PinInputs): Pin | undefined {
  const prev = p.previous?.identity === p.identity ? p.previous : undefined;
  const candidates = p.replicas.filter((r) => reportsClaim(r, p.claimName) && verified(r.status));
  const fromSource = immutableRevision(p.artifact);
  if (fromSource !== undefined) {
    const pin: Pin = { resolvedRevision: fromSource, pinnedFrom: PINNED_FROM_SOURCE, identity: p.identity };
    // The source names the revision; the first verification adds the manifest digest, so the bytes are pinned too.
    const comparable = revisionComparable(p.artifact);
    // A source that names its manifest digest (pvcClone) pins the bytes from the start, too.
    const digest =
      prev?.manifestDigest ??
      sourceKindOf(p.artifact.source)?.pinnedManifest() ??
      candidates.find((r) => !comparable || r.status.resolvedRevision === fromSource)?.status.manifestDigest;
    if (digest !== undefined) pin.manifestDigest = digest;
    return pin;
  }
  if (prev !== undefined) return prev;
  const first = candidates[0];
  if (first === undefined) return undefined;
  return {
    resolvedRevision: first.status.resolvedRevision ?? "",
    manifestDigest: first.status.manifestDigest ?? "",
    pinnedFrom: first.cluster,
    identity: p.identity,
  };
}

/** Why this replica's bytes are not the pinned ones, or undefined when they are (or it has not said yet). */
export function driftOf(r: ObservedReplica, pin: Pin | undefined, artifact: Artifact, claimName: string): string | undefined {
  if (!reportsClaim(r, claimName)) return undefined;
  const s = r.status;
  if (s.drift === true) return `cluster ${r.cluster} reports bytes other than the pinned manifest${s.message ? `: ${s.message}` : ""}`;
  if (pin === undefined) return undefined;
  if (pin.manifestDigest && s.manifestDigest && s.manifestDigest !== pin.manifestDigest)
    return `cluster ${r.cluster} holds manifest ${s.manifestDigest}, pinned ${pin.manifestDigest}`;
  // A source pin's revision is compared only where the hydrator reports the same form (commit, OCI digest).
  const comparable = pin.pinnedFrom !== PINNED_FROM_SOURCE || revisionComparable(artifact);
  if (comparable && s.resolvedRevision && s.resolvedRevision !== pin.resolvedRevision)
    return `cluster ${r.cluster} resolved revision ${s.resolvedRevision}, pinned ${pin.resolvedRevision}`;
  return undefined;
}
