// A compact ModelCacheReplica (cacheRef, cluster, contractHash) gets the rest
// of its spec from the contract's ConfigMap, `<cache>-contract-<hash>` in its
// own namespace, which the fleet composes and Crossplane delivers as a
// required resource: a few KB, not the parent ModelCache (whose status lists
// every cluster). The fleet composes the ConfigMap in the same step as the
// replicas, but Crossplane may apply the replica first or the ConfigMap may be
// edited: until the ConfigMap is there and hashes to the name, nothing is
// decided, and every observed resource is kept exactly as it is.
import { field, isObject, str } from "../../common/json.ts";
import type { ReplicaPhase } from "../../api/modelcache.ts";
import type { ModelCacheReplicaStatus } from "../../api/replica.ts";
import { condition as xrCondition, passThrough } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceSelector, ResourceState } from "../../sdk/types.ts";
import { contractConfigMapName, CONTRACT_DATA_KEY, readContract } from "../contract-configmap.ts";
import { condition } from "./objects.ts";

/** The required-resources key the contract's ConfigMap is delivered under. */
export const CONTRACT_REQUIREMENT = "contract";
/** Requeue soon: the ConfigMap composed with the replica usually lands within seconds. */
export const TTL_WAITING_SECONDS = 10;
export const WAITING_REASON = "WaitingForContract";

export interface CompactRef {
  cacheRef: { name: string };
  contractHash: string;
}

/** Derived from the replica's own spec only, so it is the same on every call and Crossplane's requirement loop settles. */
export function contractRequirement(ref: CompactRef, namespace: string): Record<string, ResourceSelector> {
  return {
    [CONTRACT_REQUIREMENT]: { apiVersion: "v1", kind: "ConfigMap", match: { name: contractConfigMapName(ref.cacheRef.name, ref.contractHash) }, namespace },
  };
}

export type Resolution = { kind: "resolved"; spec: JsonObject; root: string } | { kind: "waiting"; message: string };

/** The contract the replica names, if its ConfigMap is delivered and holds exactly it. */
export function resolveContract(req: FunctionRequest, ref: CompactRef, namespace: string): Resolution {
  const name = contractConfigMapName(ref.cacheRef.name, ref.contractHash);
  const cm = `ConfigMap ${namespace}/${name}`;
  const want = `contract ${ref.contractHash} of ModelCache ${ref.cacheRef.name}`;
  const delivered = req.requiredResources[CONTRACT_REQUIREMENT];
  // Absent: Crossplane has not fetched it yet (the first call of a reconcile). Empty: fetched, not found.
  if (delivered === undefined) return { kind: "waiting", message: `waiting for ${cm} (required resource ${CONTRACT_REQUIREMENT}) to read ${want}` };
  const found = delivered.find((r) => str(field(r, "metadata", "name")) === name);
  if (found === undefined) return { kind: "waiting", message: `${cm} was not found; this replica names ${want}, which its ModelCache composes` };
  const read = readContract(found, ref.contractHash);
  if (!read.ok) return { kind: "waiting", message: `${cm} ${read.problem}; this replica names ${want}` };
  return { kind: "resolved", spec: read.spec, root: `${cm} data['${CONTRACT_DATA_KEY}']` };
}

/** What we own of an observed composed resource: the rest of its metadata is Crossplane's. */
function keptAsObserved(state: ResourceState): ResourceState {
  const r = state.resource;
  const resource: JsonObject = { apiVersion: r["apiVersion"] ?? null, kind: r["kind"] ?? null };
  if (r["spec"] !== undefined) resource["spec"] = r["spec"];
  return { resource, connectionDetails: {}, ready: condition(r, "Ready")?.["status"] === "True" ? "True" : "False" };
}

/** Why nothing is decided: the Hydrated condition's reason, and the phase to report (the last one when absent). */
export interface Hold {
  reason: string;
  phase?: ReplicaPhase;
}

/**
 * Decide nothing: every observed resource is desired exactly as observed (no
 * volume or running Job is deleted, nothing new is started), the last status
 * is kept with the reason in its message and the Hydrated condition.
 */
export function keepEveryObserved(
  req: FunctionRequest,
  prev: ModelCacheReplicaStatus,
  message: string,
  hold: Hold = { reason: WAITING_REASON },
): FunctionResponse {
  const rsp = passThrough(req, TTL_WAITING_SECONDS);
  for (const key of Object.keys(req.observed.resources).sort()) {
    const state = req.observed.resources[key];
    // What an earlier step desires under the same key passes through as it is.
    if (state !== undefined && rsp.desired.resources[key] === undefined) rsp.desired.resources[key] = keptAsObserved(state);
  }
  const xr = req.observed.composite?.resource ?? {};
  const phase = hold.phase ?? prev.phase ?? "Pending";
  const ready = phase === "Ready" && prev.drift !== true;
  const base = req.desired.composite?.resource ?? { apiVersion: xr["apiVersion"] ?? null, kind: xr["kind"] ?? null };
  const baseStatus = isObject(base["status"]) ? base["status"] : {};
  const status: JsonObject = { ...baseStatus, ...(JSON.parse(JSON.stringify(prev)) as JsonObject), phase, message };
  rsp.desired.composite = { resource: { ...base, status }, connectionDetails: req.desired.composite?.connectionDetails ?? {}, ready: ready ? "True" : "False" };
  rsp.conditions = [xrCondition("Hydrated", ready ? "True" : "False", hold.reason, message)];
  return rsp;
}
