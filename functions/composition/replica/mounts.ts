// Who mounts this cache on this cluster, as the serving step records it (one
// labelled ConfigMap per workload and cache, in the consumer's namespace:
// serving/leases.ts), and what that means for a volume of an earlier
// revision: kept while any workload mounts it, then for spec.eviction.ttl,
// then released. Unknown is never "unused": until the records are
// delivered, every old volume stays.
import { durationSeconds, type Eviction } from "../../api/modelcache.ts";
import type { FunctionRequest, JsonObject, ResourceSelector } from "../../sdk/types.ts";
import { LEASE_LABELS, labelValue } from "../serving/leases.ts";
import { field, isObject, str } from "../../common/json.ts";

export const MOUNTS_REQUIREMENT = "mounts";

/** Every record of this cache on this cluster, in any namespace (a granted consumer lives in its own). */
export function mountsRequirement(cacheName: string, cacheNamespace: string, cluster: string): Record<string, ResourceSelector> {
  return {
    [MOUNTS_REQUIREMENT]: {
      apiVersion: "v1",
      kind: "ConfigMap",
      match: {
        labels: { [LEASE_LABELS.cache]: labelValue(cacheName), [LEASE_LABELS.cacheNamespace]: cacheNamespace, [LEASE_LABELS.cluster]: labelValue(cluster) },
      },
    },
  };
}

/** Workloads mounting each claim, by claim name; undefined while the records are not delivered. */
export function readMounts(req: FunctionRequest, cacheRef: string, cluster: string): Map<string, string[]> | undefined {
  const delivered = req.requiredResources[MOUNTS_REQUIREMENT];
  if (delivered === undefined) return undefined;
  const out = new Map<string, string[]>();
  for (const cm of delivered) {
    const data = field(cm, "data");
    if (!isObject(data)) continue;
    // Labels may be digests: the data says exactly which cache and cluster.
    if (str(data["cache"]) !== cacheRef || str(data["cluster"]) !== cluster) continue;
    const claim = str(data["claim"])?.split("/")[1];
    if (claim === undefined || claim === "") continue;
    const who = `${str(data["consumer"]) ?? "?"}: ${str(data["workload"]) ?? "?"}`;
    out.set(claim, [...(out.get(claim) ?? []), who].sort());
  }
  return out;
}

export interface OldVolumeInput {
  claimName: string;
  /** Who mounts it; undefined while unknown. */
  mounts: string[] | undefined;
  eviction: Eviction | undefined;
  /** From the last status: since when nobody mounts it. */
  unusedSince: string | undefined;
  now: number;
}

export type OldVolumeDecision = { keep: true; status: JsonObject; retryInSeconds?: number } | { keep: false; status: JsonObject };

/** Whether an earlier revision's volume stays, once the current one is Ready on this cluster. */
export function decideOldVolume(o: OldVolumeInput): OldVolumeDecision {
  const base = { claimName: o.claimName };
  if (o.mounts === undefined)
    return { keep: true, status: { ...base, message: "kept: who mounts it is not known yet (the serving step's records are being read)" } };
  if (o.mounts.length > 0)
    return {
      keep: true,
      status: {
        ...base,
        mounts: o.mounts.length,
        message: `kept: mounted by ${o.mounts.slice(0, 5).join("; ")}${o.mounts.length > 5 ? ` and ${o.mounts.length - 5} more` : ""}`,
      },
    };
  if (o.eviction === undefined) return { keep: false, status: { ...base, mounts: 0, message: "released: nobody mounts it and spec.eviction is not set" } };
  const since = o.unusedSince !== undefined && !Number.isNaN(Date.parse(o.unusedSince)) ? Date.parse(o.unusedSince) : o.now;
  const releaseAt = since + durationSeconds(o.eviction.ttl) * 1000;
  const at = { unusedSince: new Date(since).toISOString(), releaseAt: new Date(releaseAt).toISOString() };
  if (o.now >= releaseAt)
    return { keep: false, status: { ...base, mounts: 0, ...at, message: `released: nobody has mounted it for spec.eviction.ttl (${o.eviction.ttl})` } };
  return {
    keep: true,
    retryInSeconds: Math.ceil((releaseAt - o.now) / 1000),
    status: { ...base, mounts: 0, ...at, message: `kept until ${at.releaseAt} unless a workload mounts it again (spec.eviction.ttl ${o.eviction.ttl})` },
  };
}
