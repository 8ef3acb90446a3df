// The replicas this cache composed before, as Crossplane observed them: what
// they asked for (spec) and what their cluster reported (status).
import { obj, str } from "../../common/json.ts";
import { ModelCacheReplicaStatus } from "../../api/replica.ts";
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { isReplicaKey } from "./names.ts";

export interface ObservedReplica {
  key: string;
  /** Its name: kept when it is composed again, so no replica is ever renamed. */
  name: string | undefined;
  cluster: string;
  resource: JsonObject;
  /** The compact form's contract hash; undefined for a replica written in full. */
  contractHash: string | undefined;
  /** The volume it was composed for: from its spec, or from the contract its hash names when its ConfigMap is observed. */
  claimName: string | undefined;
  previousClaimNames: string[];
  status: ModelCacheReplicaStatus;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((p): p is string => typeof p === "string") : [];
}

/**
 * The replicas observed under `replica-` keys; of `kind` only, when given.
 * `contracts` are the contract specs observed in their ConfigMaps, by hash: a
 * compact replica naming one was composed for its claim; one naming a
 * contract not observed is known by what its status reports.
 */
export function observedReplicas(
  observed: Record<string, ResourceState>,
  kind?: string,
  contracts: ReadonlyMap<string, JsonObject> = new Map(),
): Map<string, ObservedReplica> {
  const out = new Map<string, ObservedReplica>();
  for (const key of Object.keys(observed).sort()) {
    const resource = observed[key]?.resource;
    if (resource === undefined || !isReplicaKey(key) || (kind !== undefined && resource["kind"] !== kind)) continue;
    const spec = obj(resource["spec"]) ?? {};
    const cluster = str(obj(spec["cluster"])?.["name"]) ?? key.slice("replica-".length);
    // A status we cannot read is treated as "nothing reported yet", never as an error.
    const status = ModelCacheReplicaStatus.safeParse(resource["status"] ?? {});
    const contractHash = str(spec["contractHash"]);
    const from: Record<string, unknown> = contractHash === undefined ? spec : (contracts.get(contractHash) ?? {});
    const claimName = from["claimName"];
    out.set(cluster, {
      key,
      name: str(obj(resource["metadata"])?.["name"]),
      cluster,
      resource,
      contractHash,
      claimName: typeof claimName === "string" ? claimName : undefined,
      previousClaimNames: strings(from["previousClaimNames"]),
      status: status.success ? status.data : {},
    });
  }
  return out;
}

/**
 * The observed replica as a desired resource, unchanged: what keeps it (and
 * its volume on the cluster) alive when we cannot or must not recompute it.
 * Only what we own is copied; Crossplane re-adds its own metadata.
 */
export function keepUnchanged(r: ObservedReplica): ResourceState {
  const meta = obj(r.resource["metadata"]) ?? {};
  const metadata: JsonObject = {};
  for (const k of ["name", "namespace", "labels"] as const) if (meta[k] !== undefined) metadata[k] = meta[k];
  const resource: JsonObject = { apiVersion: r.resource["apiVersion"] ?? null, kind: r.resource["kind"] ?? null, metadata };
  if (r.resource["spec"] !== undefined) resource["spec"] = r.resource["spec"];
  return { resource, connectionDetails: {}, ready: r.status.phase === "Ready" && r.status.drift !== true ? "True" : "False" };
}

/**
 * Every replica composed before, unchanged, added to `desired` where absent.
 * A Fatal result already makes Crossplane apply nothing; carrying the replicas
 * as well means that even a caller that applied a Fatal response anyway (or a
 * later Crossplane that changed how it treats one) could delete no volume.
 */
export function withEveryReplicaKept(observed: Record<string, ResourceState>, desired: Record<string, ResourceState>): Record<string, ResourceState> {
  const out = { ...desired };
  for (const r of observedReplicas(observed).values()) if (out[r.key] === undefined) out[r.key] = keepUnchanged(r);
  return out;
}
