// The gate: whether one workload may mount one cache on its cluster now.
// Pure and total: every combination of what is known about the cache (not
// yet delivered, missing, its phase and digest on the cluster), what the
// workload mounts already (a rollout in progress) and the tenancy verdict
// maps to one decision with a reason a person can act on. The table in
// gate.test.ts lists them.
import type { GateState } from "../../api/serving.ts";
import { progressLine, type CacheOnCluster } from "./cache-view.ts";

/** What the workload mounts now, from the record on its observed manifest (mounts.ts). */
export interface PreviousMount {
  claimName: string;
  manifestDigest: string | undefined;
}

export type CacheKnowledge =
  /** Crossplane has not delivered the required resource yet: a transient gap. */
  | { kind: "waiting" }
  /** Delivered, and there is no such ModelCache. */
  | { kind: "notFound" }
  /** The ModelCache exists but cannot be read (its spec does not parse). */
  | { kind: "unreadable"; message: string }
  | { kind: "found"; view: CacheOnCluster };

export interface GateInput {
  cache: string;
  cluster: string;
  knowledge: CacheKnowledge;
  tenancy: { allowed: true } | { allowed: false; reason: string };
  previous: PreviousMount | undefined;
}

export type GateDecision =
  /** Mount this claim (in the cache's cluster namespace): verified there with the pinned digest. */
  | { action: "mount"; state: "Mounted"; claimName: string; manifestDigest: string; reason: string }
  /** Leave the workload on what it mounts now (previous is set). */
  | { action: "keepPrevious"; state: Extract<GateState, "RolloutPending" | "Kept">; reason: string }
  /** Not allowed to serve from this cache now: not composed, or stopped when it already is. */
  | { action: "hold"; state: Extract<GateState, "Held" | "Blocked">; reason: string };

function verified(v: CacheOnCluster): { claimName: string; digest: string } | string {
  if (!v.listed && !v.reported) return `ModelCache ${v.ref} has not reported its clusters yet`;
  if (!v.listed) return `ModelCache ${v.ref} does not select cluster ${"{cluster}"}`;
  // While bytes move the progress says it all; otherwise the cluster's message says why (failed, blocked, released).
  if (v.phase !== "Ready")
    return `${v.ref} on cluster {cluster}: ${progressLine(v)}${v.message && v.phase !== "Hydrating" && v.phase !== "Verifying" ? ` (${v.message})` : ""}`;
  if (v.drift) return `${v.ref} on cluster {cluster} holds bytes other than the pinned manifest${v.message ? ` (${v.message})` : ""}`;
  if (v.pinStale) return `${v.ref}: a new revision is rolling out and is not pinned yet`;
  if (v.pinnedDigest === undefined) return `${v.ref}: no manifest digest is pinned yet`;
  if (v.manifestDigest !== v.pinnedDigest)
    return `${v.ref} on cluster {cluster} verified ${v.manifestDigest ?? "no manifest"}, not the pinned ${v.pinnedDigest}`;
  if (v.claimName === undefined) return `${v.ref} on cluster {cluster} reports no claim`;
  return { claimName: v.claimName, digest: v.pinnedDigest };
}

export function decideGate(g: GateInput): GateDecision {
  const at = (s: string) => s.replaceAll("{cluster}", g.cluster);
  const prev = g.previous;
  // The platform's word first: a cache the tenant may not use is never mounted, and a revoked grant stops what mounts it.
  if (!g.tenancy.allowed) return { action: "hold", state: "Blocked", reason: g.tenancy.reason };

  switch (g.knowledge.kind) {
    case "waiting":
      // A gap in delivery is not news about the bytes: change nothing.
      return prev !== undefined
        ? { action: "keepPrevious", state: "Kept", reason: `waiting for ModelCache ${g.cache} to be delivered; the workload keeps ${prev.claimName}` }
        : { action: "hold", state: "Held", reason: `waiting for ModelCache ${g.cache} to be delivered` };
    case "notFound":
      return prev !== undefined
        ? {
            action: "keepPrevious",
            state: "Kept",
            reason: `ModelCache ${g.cache} does not exist; the workload keeps ${prev.claimName}, whose volume outlives it per the cache's retention`,
          }
        : { action: "hold", state: "Held", reason: `ModelCache ${g.cache} does not exist; create it or fix the ${"modelcache.dev/caches"} annotation` };
    case "unreadable":
      return prev !== undefined
        ? {
            action: "keepPrevious",
            state: "Kept",
            reason: `ModelCache ${g.cache} cannot be read (${g.knowledge.message}); the workload keeps ${prev.claimName}`,
          }
        : { action: "hold", state: "Blocked", reason: `ModelCache ${g.cache} cannot be read: ${g.knowledge.message}` };
    case "found":
      break;
  }

  const v = g.knowledge.view;
  if (v.seed === "Source") return noSharedCopy(v, g.cluster, prev);
  const ok = verified(v);
  if (typeof ok !== "string") {
    const moved = prev !== undefined && prev.claimName !== ok.claimName;
    return {
      action: "mount",
      state: "Mounted",
      claimName: ok.claimName,
      manifestDigest: ok.digest,
      reason: moved
        ? `${v.ref} revision verified on cluster ${g.cluster} (${ok.digest}): moving from ${prev.claimName} to ${ok.claimName}`
        : `${v.ref} verified on cluster ${g.cluster} (${ok.digest})`,
    };
  }
  const why = at(ok);
  // Only a cache that reported its clusters without this one says no bytes will come.
  if (prev === undefined) return { action: "hold", state: v.listed || !v.reported ? "Held" : "Blocked", reason: why };
  if (prev.claimName !== v.claimName && v.claimName !== undefined)
    // A new revision: the old volume is verified bytes the cluster keeps until the new one is verified (and while mounted).
    return { action: "keepPrevious", state: "RolloutPending", reason: `new revision not verified yet (${why}); the workload keeps ${prev.claimName}` };
  if (v.drift || (v.phase === "Ready" && v.manifestDigest !== undefined && v.pinnedDigest !== undefined && v.manifestDigest !== v.pinnedDigest))
    // The bytes under a running workload are not the pinned ones: stop serving them.
    return { action: "hold", state: "Held", reason: `${why}; the workload is stopped until it is verified again` };
  // Hydrating again into the same claim (a refetch or a retry) publishes atomically; a Failed or Blocked attempt leaves
  // the verified tree in place; a cluster that stopped matching keeps its data per retention.
  return { action: "keepPrevious", state: "Kept", reason: `${why}; the workload keeps ${prev.claimName}, verified before` };
}

/**
 * A cluster whose copies are node-local only, each node hydrated from the source: the claimName it reports names
 * no claim there (node claims are `<claimName>-n-<hash>`, one per node), and serving mounts no node claims. Waiting
 * will not change that, so a new workload is Blocked with the fix. A workload that mounts the cluster's earlier
 * shared copy (the tenant switched the cache to Source) is stopped at once, as on a revoked grant: the replica lets
 * that copy go when every node is Ready, and once it has, nothing on the ModelCache says so (a later non-Ready phase,
 * a node joining, looks the same), so keeping the workload until then could start it again on a deleted claim.
 * seed Source is never a gap: Auto keeps a shared copy the cluster has, and an unreadable replica reports no seed.
 */
function noSharedCopy(v: CacheOnCluster, cluster: string, prev: PreviousMount | undefined): GateDecision {
  const why =
    `ModelCache ${v.ref} on cluster ${cluster} has node-local copies only, each node hydrated from the source: no shared claim exists there to mount ` +
    `(to serve from it: a storage class for a shared copy on the cluster with spec.nodeLocal.seed SharedCopy or Auto, ` +
    `or per-node workloads that mount the node claims its ModelCacheReplica lists in status.nodes)`;
  if (prev === undefined) return { action: "hold", state: "Blocked", reason: why };
  return {
    action: "hold",
    state: "Blocked",
    reason: `${why}; the workload is stopped: ${prev.claimName}, the shared copy it mounts, is let go once every node is Ready`,
  };
}
