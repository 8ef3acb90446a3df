// The replica contract: the fleet-wide part of every replica's spec (all of
// ModelCacheReplicaSpec but cacheRef and cluster), computed once per call and
// composed once as a ConfigMap named after its hash (../contract-configmap.ts).
// Each replica then carries only its cluster and the contract's hash, so a
// replica costs its cluster's bytes and not the artifact, storage and pin
// again, 5,000 times over.
import { REFETCH_ANNOTATION, type Pin } from "../../api/modelcache.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { contractHash } from "../contract-configmap.ts";
import type { Cache } from "./parse.ts";
import type { ObservedReplica } from "./replicas.ts";

/** Earlier volumes listed at most; the schema's bound. */
export const MAX_PREVIOUS_CLAIMS = 8;

export { canonicalJson, contractHash } from "../contract-configmap.ts";

/**
 * Volumes of earlier revisions a replica still keeps: those it was composed
 * for or reported, until it has verified the current one. Informational for
 * the cluster level, which keeps what it observes until its new volume is Ready.
 */
export function previousClaims(claimName: string, prev: ObservedReplica | undefined): string[] {
  if (prev === undefined) return [];
  if (prev.status.phase === "Ready" && prev.status.claimName === claimName && prev.status.drift !== true) return [];
  const names = [prev.claimName, prev.status.claimName, ...prev.previousClaimNames].filter((n): n is string => n !== undefined && n !== claimName);
  return [...new Set(names)];
}

/** The union over the replicas the contract is for, in cluster order, within the schema's bound. */
export function fleetPreviousClaims(claimName: string, replicas: readonly (ObservedReplica | undefined)[]): string[] {
  const out = new Set<string>();
  for (const r of replicas) for (const n of previousClaims(claimName, r)) out.add(n);
  return [...out].slice(0, MAX_PREVIOUS_CLAIMS);
}

/** One contract: its hash (what status.replicaContract and every replica name) and its spec (what its ConfigMap holds). */
export interface Contract {
  hash: string;
  spec: JsonObject;
}

export interface ContractParts {
  cache: Cache;
  namespace: string;
  /** spec.hydration as written, or as the tenancy policy clamped it. */
  hydration: JsonObject | undefined;
  claimName: string;
  mountPath: string;
  hydratorImage: string;
  pin: Pin | undefined;
  previousClaimNames: string[];
}

/** Artifact, storage, hydration and retention go as the user wrote them (validated); the replica schema defaults the rest. */
export function replicaContract(p: ContractParts): Contract {
  const w = p.cache.written;
  const spec: JsonObject = {
    artifact: w["artifact"] ?? {},
    storage: w["storage"] ?? {},
    namespace: p.namespace,
    claimName: p.claimName,
    mountPath: p.mountPath,
    hydratorImage: p.hydratorImage,
  };
  // Left out when not written: the replica's schema has the same defaults.
  if (p.hydration !== undefined) spec["hydration"] = p.hydration;
  if (w["retention"] !== undefined) spec["retention"] = w["retention"];
  if (w["eviction"] !== undefined) spec["eviction"] = w["eviction"];
  if (p.pin !== undefined)
    spec["pin"] = p.pin.manifestDigest
      ? { resolvedRevision: p.pin.resolvedRevision, manifestDigest: p.pin.manifestDigest }
      : { resolvedRevision: p.pin.resolvedRevision };
  const refetch = p.cache.annotations[REFETCH_ANNOTATION];
  if (refetch !== undefined && refetch !== "") spec["refetch"] = refetch;
  if (p.previousClaimNames.length > 0) spec["previousClaimNames"] = [...p.previousClaimNames];
  return { hash: contractHash(spec), spec };
}
