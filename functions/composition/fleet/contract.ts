// The replica contract: the fleet-wide part of every replica's spec (all of
// ModelCacheReplicaSpec but cacheRef and cluster), computed once per call and
// written once into the ModelCache's status. Each replica then carries only
// its cluster and the contract's hash, so a replica costs its cluster's bytes
// and not the artifact, storage and pin again, 5,000 times over.
import { createHash } from "node:crypto";
import { REFETCH_ANNOTATION, type Pin } from "../../api/modelcache.ts";
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import type { Cache } from "./parse.ts";
import type { ObservedReplica } from "./replicas.ts";

/** Earlier volumes listed at most; the schema's bound. */
export const MAX_PREVIOUS_CLAIMS = 8;

/** JSON with every object's keys sorted, so the hash does not depend on the order they were built in. */
export function canonicalJson(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k] ?? null)}`).join(",")}}`;
  return JSON.stringify(v);
}

/** 16 hex digits (64 bits) of sha256: unique among one cache's contracts, short enough to repeat per cluster. */
export function contractHash(spec: JsonObject): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 16);
}

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

/** What status.replicaContract holds. */
export interface Contract {
  hash: string;
  spec: JsonObject;
}

export interface ContractParts {
  cache: Cache;
  namespace: string;
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
  if (w["hydration"] !== undefined) spec["hydration"] = w["hydration"];
  if (w["retention"] !== undefined) spec["retention"] = w["retention"];
  if (p.pin !== undefined)
    spec["pin"] = p.pin.manifestDigest ? { resolvedRevision: p.pin.resolvedRevision, manifestDigest: p.pin.manifestDigest } : { resolvedRevision: p.pin.resolvedRevision };
  const refetch = p.cache.annotations[REFETCH_ANNOTATION];
  if (refetch !== undefined && refetch !== "") spec["refetch"] = refetch;
  if (p.previousClaimNames.length > 0) spec["previousClaimNames"] = [...p.previousClaimNames];
  return { hash: contractHash(spec), spec };
}
