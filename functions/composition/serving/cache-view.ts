// What a consumer needs to know about one ModelCache on one cluster, read
// from the ModelCache that Crossplane delivered as a required resource: its
// spec (for the identity the pin must belong to, and the access mode) and
// its status (the pin, and the cluster's line in status.clusters, which the
// fleet compacts: a field equal to the fleet-wide one is left out).
import type { ReplicaPhase } from "../../api/modelcache.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { Checked } from "../../common/checked.ts";
import { field } from "../../common/json.ts";
import { CLUSTERS_SELECTED } from "../fleet/conditions.ts";
import { identityHash } from "../fleet/identity.ts";
import { parseCache } from "../fleet/parse.ts";

export interface CacheOnCluster {
  /** `namespace/name` of the ModelCache. */
  ref: string;
  /** The cluster appears in status.clusters (selected, or retained after it stopped matching). */
  listed: boolean;
  /**
   * The fleet has reported which clusters it selects (status.clusters, or its ClustersSelected condition True or
   * False). Before that (a ModelCache just applied, beside its consumer) a cluster's absence says nothing.
   */
  reported: boolean;
  /** The cluster still matches the cache's selector. */
  selected: boolean;
  phase: ReplicaPhase | undefined;
  bytesDone?: number;
  bytesTotal?: number;
  etaSeconds?: number;
  message?: string;
  drift: boolean;
  /** The cache's current volume on this cluster: the new one while a revision rolls out. */
  claimName: string | undefined;
  /**
   * Source: the cluster's copies are node-local only, each node hydrated from the source (the fleet's `seed` on the
   * cluster's line); claimName then names no claim there, only the node claims' base.
   */
  seed: "Source" | undefined;
  namespace: string | undefined;
  mountPath: string;
  /** The manifest this cluster verified on claimName (the pin's when the fleet compacted it away). */
  manifestDigest: string | undefined;
  /** The pinned manifest digest, when the pin belongs to the cache's current source. */
  pinnedDigest: string | undefined;
  /** A pin exists but belongs to an earlier source identity: the new revision is not pinned yet. */
  pinStale: boolean;
  accessMode: "ReadWriteMany" | "ReadOnlyMany" | "ReadWriteOnce";
}

/** The ModelCache's view for `cluster`; a cache whose spec does not parse is reported, never guessed at. */
export function cacheOnCluster(mc: JsonObject, cluster: string): Checked<CacheOnCluster> {
  const parsed = parseCache(mc);
  if (!parsed.ok) return { ok: false, error: parsed.message };
  const c = parsed.value;
  const st = c.observedStatus;
  const ref = `${c.namespace}/${c.name}`;
  const pin = st.pin;
  const pinStale = pin?.identity !== undefined && pin.identity !== identityHash(c.spec.artifact);
  const pinnedDigest = pin !== undefined && !pinStale ? pin.manifestDigest : undefined;
  const cs = (st.clusters ?? []).find((x) => x.name === cluster);
  const accessMode = c.spec.storage.backend === "PVC" ? (c.spec.storage.pvc?.accessMode ?? "ReadWriteMany") : "ReadWriteMany";
  const mountPath = cs?.mountPath ?? st.mountPath ?? c.spec.mountPath ?? `/models/${c.name}`;
  const conditions = field(mc, "status", "conditions");
  // ClustersSelected Unknown is the fleet waiting for the clusters itself: not a report either.
  const reported =
    Array.isArray(st.clusters) ||
    (Array.isArray(conditions) && conditions.some((c) => field(c, "type") === CLUSTERS_SELECTED && field(c, "status") !== "Unknown"));
  const base = { ref, mountPath, pinnedDigest, pinStale, accessMode, reported } as const;
  if (cs === undefined)
    return {
      ok: true,
      value: {
        ...base,
        listed: false,
        selected: false,
        phase: undefined,
        drift: false,
        claimName: undefined,
        seed: undefined,
        namespace: undefined,
        manifestDigest: undefined,
      },
    };
  const drift = cs.drift === true;
  // The fleet leaves out a Ready cluster's digest when it is the pin's (fleet/status.ts, compact).
  const manifestDigest = cs.manifestDigest ?? (cs.phase === "Ready" && !drift && pin !== undefined ? pin.manifestDigest : undefined);
  const view: CacheOnCluster = {
    ...base,
    listed: true,
    selected: cs.selected !== false,
    phase: cs.phase,
    drift,
    claimName: cs.claimName ?? st.claimName,
    seed: cs.seed,
    namespace: cs.namespace ?? st.namespace,
    manifestDigest,
  };
  if (cs.bytesDone !== undefined) view.bytesDone = cs.bytesDone;
  if (cs.bytesTotal !== undefined) view.bytesTotal = cs.bytesTotal;
  if (cs.etaSeconds !== undefined) view.etaSeconds = cs.etaSeconds;
  if (cs.message !== undefined) view.message = cs.message;
  return { ok: true, value: view };
}

/** `Hydrating, 12.00 GiB of 16.00 GiB (75%), about 120s left` */
export function progressLine(v: Pick<CacheOnCluster, "phase" | "bytesDone" | "bytesTotal" | "etaSeconds">): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  const parts: string[] = [v.phase ?? "Pending"];
  if (v.bytesDone !== undefined) {
    const of = v.bytesTotal !== undefined && v.bytesTotal > 0 ? ` of ${gib(v.bytesTotal)} (${Math.floor((v.bytesDone / v.bytesTotal) * 100)}%)` : "";
    parts.push(`${gib(v.bytesDone)}${of}`);
  }
  if (v.etaSeconds !== undefined) parts.push(`about ${v.etaSeconds}s left`);
  return parts.join(", ");
}
