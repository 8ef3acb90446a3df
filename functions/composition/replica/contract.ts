// A compact ModelCacheReplica (cacheRef, cluster, contractHash) gets the rest
// of its spec from its parent ModelCache's status.replicaContract, which
// Crossplane delivers as a required resource. The fleet writes the replicas
// and its own status in two steps (composed resources first, then the XR's
// status), so a replica can see a contract other than the one it names: then
// nothing is decided, and every observed resource is kept exactly as it is.
import { API_VERSION, ReplicaContract } from "../../api/modelcache.ts";
import type { ModelCacheReplicaStatus } from "../../api/replica.ts";
import { condition as xrCondition, passThrough } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceSelector, ResourceState } from "../../sdk/types.ts";
import { condition, field, isObject, str } from "./objects.ts";

/** The required-resources key the parent ModelCache is delivered under. */
export const CACHE_REQUIREMENT = "modelcache";
export const CACHE_KIND = "ModelCache";
/** Requeue soon: the fleet's status write that resolves the wait usually lands within seconds. */
export const TTL_WAITING_SECONDS = 10;
export const WAITING_REASON = "WaitingForContract";

/** Derived from the replica's own name fields only, so it is the same on every call and Crossplane's requirement loop settles. */
export function cacheRequirement(cacheName: string, namespace: string): Record<string, ResourceSelector> {
  return { [CACHE_REQUIREMENT]: { apiVersion: API_VERSION, kind: CACHE_KIND, match: { name: cacheName }, namespace } };
}

export type Resolution =
  | { kind: "resolved"; spec: JsonObject; root: string }
  | { kind: "waiting"; message: string };

export interface CompactRef {
  cacheRef: { name: string };
  contractHash: string;
}

/** The contract the replica names, if the delivered ModelCache carries exactly it. */
export function resolveContract(req: FunctionRequest, ref: CompactRef, namespace: string): Resolution {
  const cache = `ModelCache ${namespace}/${ref.cacheRef.name}`;
  const want = `contract ${ref.contractHash}`;
  const delivered = req.requiredResources[CACHE_REQUIREMENT];
  // Absent: Crossplane has not fetched it yet (the first call of a reconcile). Empty: fetched, not found.
  if (delivered === undefined) return { kind: "waiting", message: `waiting for ${cache} (required resource ${CACHE_REQUIREMENT}) to read ${want}` };
  const found = delivered.find((r) => str(field(r, "metadata", "name")) === ref.cacheRef.name);
  if (found === undefined) return { kind: "waiting", message: `${cache} was not found; this replica names its ${want}` };
  const raw = field(found, "status", "replicaContract");
  const parsed = ReplicaContract.safeParse(raw);
  if (raw === undefined) return { kind: "waiting", message: `${cache} has no status.replicaContract yet; this replica names ${want}` };
  if (!parsed.success) return { kind: "waiting", message: `${cache} has an unreadable status.replicaContract; this replica names ${want}` };
  if (parsed.data.hash !== ref.contractHash)
    return {
      kind: "waiting",
      message: `${cache} has contract ${parsed.data.hash} in its status; this replica names ${ref.contractHash} (the ModelCache writes its replicas before its status): waiting for them to agree`,
    };
  const spec = field(found, "status", "replicaContract", "spec");
  return { kind: "resolved", spec: isObject(spec) ? spec : {}, root: `${cache} status.replicaContract.spec` };
}

/** What we own of an observed composed resource: the rest of its metadata is Crossplane's. */
function keptAsObserved(state: ResourceState): ResourceState {
  const r = state.resource;
  const resource: JsonObject = { apiVersion: r["apiVersion"] ?? null, kind: r["kind"] ?? null };
  if (r["spec"] !== undefined) resource["spec"] = r["spec"];
  return { resource, connectionDetails: {}, ready: condition(r, "Ready")?.["status"] === "True" ? "True" : "False" };
}

/**
 * Decide nothing: every observed resource is desired exactly as observed (no
 * volume or running Job is deleted, nothing new is started), the last status
 * is kept with the reason in its message and the Hydrated condition.
 */
export function keepEveryObserved(req: FunctionRequest, prev: ModelCacheReplicaStatus, message: string): FunctionResponse {
  const rsp = passThrough(req, TTL_WAITING_SECONDS);
  for (const key of Object.keys(req.observed.resources).sort()) {
    const state = req.observed.resources[key];
    // What an earlier step desires under the same key passes through as it is.
    if (state !== undefined && rsp.desired.resources[key] === undefined) rsp.desired.resources[key] = keptAsObserved(state);
  }
  const xr = req.observed.composite?.resource ?? {};
  const phase = prev.phase ?? "Pending";
  const ready = phase === "Ready" && prev.drift !== true;
  const base = req.desired.composite?.resource ?? { apiVersion: xr["apiVersion"] ?? null, kind: xr["kind"] ?? null };
  const baseStatus = isObject(base["status"]) ? base["status"] : {};
  const status: JsonObject = { ...baseStatus, ...(JSON.parse(JSON.stringify(prev)) as JsonObject), phase, message };
  rsp.desired.composite = { resource: { ...base, status }, connectionDetails: req.desired.composite?.connectionDetails ?? {}, ready: ready ? "True" : "False" };
  rsp.conditions = [xrCondition("Hydrated", ready ? "True" : "False", WAITING_REASON, message)];
  return rsp;
}
