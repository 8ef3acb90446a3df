// Use keeps a cache on a cluster, disuse lets it go (seed 004's TTL plus
// touch), with spec.eviction.ttl. Use is what the serving step records (one
// labelled ConfigMap per workload and cache: serving/leases.ts): a workload
// that mounts the cache there (Mounted) or waits for it (Waiting). A copy
// that is Ready and that nobody has used for the TTL is released: its
// replica is removed, and the retention policy decides its volume (Retain
// leaves the bytes on the cluster, Delete deletes the claim). A record that
// appears for a released cluster brings the copy back. Records not
// delivered yet are never "unused".
import { durationSeconds, type ClusterStatus, type Eviction } from "../../api/modelcache.ts";
import type { ClusterDecision } from "./cluster-decision.ts";
import type { FunctionRequest, ResourceSelector } from "../../sdk/types.ts";
import { field, isObject, str } from "../../common/json.ts";
import { LEASE_LABELS, labelValue } from "../serving/leases.ts";

export const USE_REQUIREMENT = "uses";

/** Every record of this cache, on any cluster, in any namespace (a granted consumer records in its own). */
export function useRequirement(cacheName: string, cacheNamespace: string): Record<string, ResourceSelector> {
  return {
    [USE_REQUIREMENT]: {
      apiVersion: "v1",
      kind: "ConfigMap",
      match: { labels: { [LEASE_LABELS.cache]: labelValue(cacheName), [LEASE_LABELS.cacheNamespace]: cacheNamespace } },
    },
  };
}

/** Workloads using the cache, by cluster; undefined while the records are not delivered. */
export function readUses(req: FunctionRequest, cacheRef: string): Map<string, number> | undefined {
  const delivered = req.requiredResources[USE_REQUIREMENT];
  if (delivered === undefined) return undefined;
  const out = new Map<string, number>();
  for (const cm of delivered) {
    const data = field(cm, "data");
    // Labels may be digests: the data says exactly which cache and cluster.
    if (!isObject(data) || str(data["cache"]) !== cacheRef) continue;
    const cluster = str(data["cluster"]);
    if (cluster !== undefined && cluster !== "") out.set(cluster, (out.get(cluster) ?? 0) + 1);
  }
  return out;
}

export interface EvictionInput {
  eviction: Eviction;
  /** Workloads using the cache on this cluster; undefined while unknown. */
  uses: number | undefined;
  /** The cluster's line as this call computed it (phase of the current volume). */
  line: ClusterStatus;
  /** The cluster's line as the last call wrote it (its memory: unusedSince, released). */
  previous: ClusterStatus | undefined;
  now: number;
}

export type EvictionDecision =
  /** Compose as usual; the fields to set on the line (unusedSince, releaseAt while unused). */
  | { kind: "keep"; set: Pick<ClusterStatus, "unusedSince" | "releaseAt">; retryInSeconds?: number }
  /** Compose no replica: the copy is released (now, or it was and nobody asks for it). */
  | { kind: "released"; since: string; fresh: boolean };

export function decideEviction(e: EvictionInput): EvictionDecision {
  // A use (mounted or waiting) brings a released copy back; while uses are unknown it stays released.
  if (e.previous?.released === true) {
    if (e.uses !== undefined && e.uses > 0) return { kind: "keep", set: {} };
    return { kind: "released", since: e.previous.releaseAt ?? new Date(e.now).toISOString(), fresh: false };
  }
  // Unknown is never unused; a use keeps the copy.
  if (e.uses === undefined || e.uses > 0) return { kind: "keep", set: {} };
  // The clock runs only while the copy is Ready: a hydration is not disuse.
  if (e.line.phase !== "Ready" || e.line.drift === true) return { kind: "keep", set: {} };
  const prevSince = e.previous?.unusedSince;
  const since = prevSince !== undefined && !Number.isNaN(Date.parse(prevSince)) ? Date.parse(prevSince) : e.now;
  const releaseAt = since + durationSeconds(e.eviction.ttl) * 1000;
  if (e.now >= releaseAt) return { kind: "released", since: new Date(releaseAt).toISOString(), fresh: true };
  return {
    kind: "keep",
    set: { unusedSince: new Date(since).toISOString(), releaseAt: new Date(releaseAt).toISOString() },
    retryInSeconds: Math.ceil((releaseAt - e.now) / 1000),
  };
}

/** The line of a released cluster: not counted as selected or ready, saying what became of its bytes and how to get them back. */
export function releasedLine(name: string, since: string, ttl: string, retention: "Retain" | "Delete"): ClusterStatus {
  const bytes =
    retention === "Retain"
      ? "its volume stays on the cluster, no longer managed (spec.retention.whenUnselected: Retain)"
      : "its volume was deleted (spec.retention.whenUnselected: Delete)";
  return {
    name,
    phase: "Pending",
    released: true,
    releaseAt: since,
    message: `released at ${since}: nobody used it for spec.eviction.ttl (${ttl}); ${bytes}; a workload asking for it brings it back`,
  };
}

export interface EvictionContext {
  eviction: Eviction;
  /** Workloads using the cache, by cluster; undefined while the records are not delivered. */
  uses: Map<string, number> | undefined;
  /** The status lines the last call wrote (their memory: unusedSince, released). */
  previous: readonly ClusterStatus[];
  retention: "Retain" | "Delete";
  now: number;
}

/**
 * The clusters' decisions with disuse applied: a copy to compose that is
 * released gets no replica and a released line; one kept gets its clock on
 * its line. Also which were released just now, and when the next is due.
 */
export function applyEviction(
  decisions: readonly ClusterDecision[],
  c: EvictionContext,
): { decisions: ClusterDecision[]; released: string[]; retryInSeconds: number | undefined } {
  const previous = new Map(c.previous.map((l) => [l.name, l]));
  const released: string[] = [];
  let retryInSeconds: number | undefined;
  const out = decisions.map((d): ClusterDecision => {
    if (d.replica !== "compose" || d.status === undefined) return d;
    const e = decideEviction({
      eviction: c.eviction,
      uses: c.uses === undefined ? undefined : (c.uses.get(d.name) ?? 0),
      line: d.status,
      previous: previous.get(d.name),
      now: c.now,
    });
    if (e.kind === "released") {
      if (e.fresh) released.push(d.name);
      // No replica: Crossplane removes it, and the retention policy decides its volume. Not "created" either.
      const { created: _created, ...notes } = d.notes;
      return { ...d, status: releasedLine(d.name, e.since, c.eviction.ttl, c.retention), replica: "none", notes };
    }
    if (e.retryInSeconds !== undefined) retryInSeconds = Math.min(retryInSeconds ?? e.retryInSeconds, e.retryInSeconds);
    return { ...d, status: { ...d.status, ...e.set } };
  });
  return { decisions: out, released, retryInSeconds };
}
