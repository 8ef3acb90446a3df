// What the ModelCache says about its fleet: one ClusterStatus per cluster it
// cares about, a summary, and whether it is Ready. Read from the replicas'
// status; nothing here is invented.
import type { ClusterStatus, ModelCacheStatus, Pin, ReplicaContract } from "../../api/modelcache.ts";
import type { ObservedReplica } from "./replicas.ts";
import { reportsClaim } from "./pin.ts";

export interface Volume {
  claimName: string;
  namespace: string;
  mountPath: string;
}

/** A cluster's line in status.clusters, from its replica's report on `volume`. */
export function clusterStatus(name: string, r: ObservedReplica | undefined, volume: Volume): ClusterStatus {
  const cs: ClusterStatus = { name, phase: "Pending", claimName: volume.claimName, namespace: volume.namespace, mountPath: volume.mountPath };
  if (r === undefined) return cs;
  if (!reportsClaim(r, volume.claimName)) {
    const old = r.status.claimName ?? r.claimName;
    cs.message = `rolling out a new revision to ${volume.claimName}${old ? `; volume ${old} is kept until it is verified` : ""}`;
    return cs;
  }
  const s = r.status;
  if (s.phase !== undefined) cs.phase = s.phase;
  for (const k of ["bytesDone", "bytesTotal", "bytesPerSecond", "etaSeconds"] as const) if (s[k] !== undefined) cs[k] = s[k];
  // Only while there are any (a rollout's aftermath): the line stays small at 5,000 clusters.
  if (s.oldVolumes !== undefined && s.oldVolumes.length > 0)
    cs.oldVolumes = s.oldVolumes.map((v) => ({
      claimName: v.claimName,
      ...(v.mounts !== undefined ? { mounts: v.mounts } : {}),
      ...(v.releaseAt !== undefined ? { releaseAt: v.releaseAt } : {}),
    }));
  if (s.nodeSummary !== undefined) cs.nodes = s.nodeSummary;
  // No shared claim exists there: the serving gate must not mount claimName (serving/gate.ts).
  if (s.seed !== undefined) cs.seed = s.seed;
  if (s.resolvedRevision !== undefined) cs.resolvedRevision = s.resolvedRevision;
  if (s.manifestDigest !== undefined) cs.manifestDigest = s.manifestDigest;
  if (s.namespace !== undefined) cs.namespace = s.namespace;
  if (s.mountPath !== undefined) cs.mountPath = s.mountPath;
  const message = s.message ?? s.lastError;
  if (message !== undefined) cs.message = message;
  return cs;
}

/** The status of a replica kept as it was (cluster vanished, unreadable, blocked or retained). */
export function keptStatus(r: ObservedReplica, why: string): ClusterStatus {
  const volume = { claimName: r.status.claimName ?? r.claimName ?? "", namespace: r.status.namespace ?? "", mountPath: r.status.mountPath ?? "" };
  const cs = clusterStatus(r.cluster, r, volume);
  cs.message = cs.message ? `${why}; ${cs.message}` : why;
  if (cs.claimName === "") delete cs.claimName;
  if (cs.namespace === "") delete cs.namespace;
  if (cs.mountPath === "") delete cs.mountPath;
  return cs;
}

export interface FleetWide extends Volume {
  pin: Pin | undefined;
}

/**
 * A cluster's line without what the fleet-wide status already says: the
 * volume, namespace and mount path when they are the cache's, the revision
 * and digest when they are the pin's, speed and ETA once Ready. At 5,000
 * clusters this keeps the ModelCache (an etcd object, at most 1.5 MiB) and
 * the response (at most 4 MiB) small; every difference is still listed.
 */
export function compact(cs: ClusterStatus, fleet: FleetWide): ClusterStatus {
  const out: ClusterStatus = { ...cs };
  if (out.claimName === fleet.claimName) delete out.claimName;
  if (out.namespace === fleet.namespace) delete out.namespace;
  if (out.mountPath === fleet.mountPath) delete out.mountPath;
  if (out.drift !== true && fleet.pin !== undefined) {
    if (out.resolvedRevision === fleet.pin.resolvedRevision) delete out.resolvedRevision;
    if (out.manifestDigest === fleet.pin.manifestDigest) delete out.manifestDigest;
  }
  if (out.phase === "Ready") {
    delete out.bytesPerSecond;
    delete out.etaSeconds;
    delete out.bytesDone;
  }
  return out;
}

const IN_PROGRESS = new Set(["Pending", "Hydrating", "Verifying"]);

export interface Summary {
  selected: number;
  ready: number;
  failed: number;
  drifted: number;
  blocked: number;
  retained: number;
  released: number;
  inProgress: number;
}

/** Selected clusters are those that match (Blocked ones included); retained ones are listed but not counted. */
export function summarize(clusters: readonly ClusterStatus[]): Summary {
  const s: Summary = { selected: 0, ready: 0, failed: 0, drifted: 0, blocked: 0, retained: 0, released: 0, inProgress: 0 };
  for (const c of clusters) {
    if (c.selected === false) {
      s.retained++;
      continue;
    }
    if (c.released === true) {
      s.released++;
      continue;
    }
    s.selected++;
    if (c.drift === true) s.drifted++;
    else if (c.phase === "Ready") s.ready++;
    if (c.phase === "Failed") s.failed++;
    if (c.phase === "Blocked") s.blocked++;
    if (IN_PROGRESS.has(c.phase)) s.inProgress++;
  }
  return s;
}

export function isAllReady(s: Summary): boolean {
  return s.selected > 0 && s.ready === s.selected;
}

export interface StatusParts {
  clusters: ClusterStatus[];
  summary: Summary;
  source: string;
  pin: Pin | undefined;
  volume: Volume;
  /** The hash of the replica contract every composed replica names (contract.ts); its spec is in its ConfigMap. */
  contract: ReplicaContract;
  notSelected: { name: string; reason: string }[] | undefined;
}

export function compositeStatus(p: StatusParts): ModelCacheStatus {
  // released only when there are any: most caches never set spec.eviction.
  const { inProgress: _inProgress, released, ...rest } = p.summary;
  const counts = released > 0 ? { ...rest, released } : rest;
  const st: ModelCacheStatus = {
    ready: `${p.summary.ready}/${p.summary.selected}`,
    summary: counts,
    source: p.source,
    mountPath: p.volume.mountPath,
    claimName: p.volume.claimName,
    namespace: p.volume.namespace,
    replicaContract: p.contract,
    clusters: p.clusters.map((c) => compact(c, { ...p.volume, pin: p.pin })),
  };
  if (p.pin !== undefined) st.pin = p.pin;
  if (p.notSelected !== undefined) st.notSelected = p.notSelected;
  return st;
}
