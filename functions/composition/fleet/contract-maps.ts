// The contract ConfigMaps the fleet composes: the current contract's, and
// every older one an observed replica still names. A replica the fleet keeps
// unchanged (cluster missing, unreadable, Blocked, retained) or that
// Crossplane has not updated yet keeps the hash it has; its ConfigMap stays,
// so its cluster level keeps retrying and reporting instead of waiting for a
// contract that is gone. A ConfigMap no observed replica names goes away.
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { contractConfigMap, contractKey, isContractKey, readContract } from "../contract-configmap.ts";
import type { Contract } from "./contract.ts";
import type { ObservedReplica } from "./replicas.ts";

/** The contracts observed as composed ConfigMaps, by hash; one whose content does not match its hash is left out. */
export function observedContracts(observed: Record<string, ResourceState>): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const [key, state] of Object.entries(observed)) {
    if (!isContractKey(key)) continue;
    const hash = key.slice(contractKey("").length);
    const read = readContract(state.resource, hash);
    if (read.ok) out.set(hash, read.spec);
  }
  return out;
}

/** A ConfigMap is data: Ready as soon as it is composed. */
function ready(resource: JsonObject): ResourceState {
  return { resource, connectionDetails: {}, ready: "True" };
}

/**
 * The contract ConfigMaps to desire: `current` when some replica is composed
 * with it (`used`), then every hash an observed replica names whose ConfigMap
 * is observed (its spec is known only from there).
 */
export function desiredContracts(
  cache: { name: string; namespace: string },
  current: Contract,
  used: boolean,
  replicas: Iterable<ObservedReplica>,
  known: ReadonlyMap<string, JsonObject>,
): Record<string, ResourceState> {
  const out: Record<string, ResourceState> = {};
  if (used) out[contractKey(current.hash)] = ready(contractConfigMap(cache.name, cache.namespace, current.hash, current.spec));
  for (const r of replicas) {
    const hash = r.contractHash;
    if (hash === undefined || out[contractKey(hash)] !== undefined) continue;
    const spec = known.get(hash);
    if (spec !== undefined) out[contractKey(hash)] = ready(contractConfigMap(cache.name, cache.namespace, hash, spec));
  }
  return out;
}

/**
 * Every contract ConfigMap composed before, unchanged, where `desired` has
 * none: when the fleet decides nothing (clusters not delivered, a Fatal
 * result), the replicas it keeps keep their contract too.
 */
export function withEveryContractKept(observed: Record<string, ResourceState>, desired: Record<string, ResourceState>): Record<string, ResourceState> {
  const out = { ...desired };
  for (const [key, state] of Object.entries(observed)) {
    if (!isContractKey(key) || out[key] !== undefined) continue;
    const r = state.resource;
    const meta = r["metadata"];
    const metadata: JsonObject = {};
    if (meta !== null && typeof meta === "object" && !Array.isArray(meta))
      for (const k of ["name", "namespace", "labels"] as const) if (meta[k] !== undefined) metadata[k] = meta[k];
    out[key] = ready({ apiVersion: r["apiVersion"] ?? "v1", kind: r["kind"] ?? "ConfigMap", metadata, data: r["data"] ?? {} });
  }
  return out;
}
