// Builders for requests and observed state, shared by the unit tests and the
// script that writes the examples' inputs (scripts/examples/replica.ts), so both describe
// a cluster the same way.
import { field, isObject } from "../../functions/common/json.ts";
import type { ModelCacheReplicaStatus } from "../../functions/api/replica.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../functions/sdk/types.ts";
import { contractConfigMap, contractHash } from "../../functions/composition/contract-configmap.ts";
import { composeReplica } from "../../functions/composition/replica/compose.ts";

export const SENTINEL_SECRET = "s3cr3t-SENTINEL-value-never-rendered";

export function baseXr(spec: JsonObject = {}, status?: JsonObject): JsonObject {
  const xr: JsonObject = {
    apiVersion: "modelcache.dev/v1alpha1",
    kind: "ModelCacheReplica",
    metadata: { name: "qwen3-8b-prod-east", namespace: "ml-team" },
    spec: {
      cacheRef: { name: "qwen3-8b" },
      cluster: {
        name: "prod-east",
        providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-east" },
        cloud: "EKS",
        storageClassName: "efs-sc",
        csiDrivers: ["SharedFilesystem"],
        cloudCluster: { name: "prod-east", region: "us-east-1", providerConfigRef: { kind: "ClusterProviderConfig", name: "aws" } },
      },
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", include: ["*.safetensors", "*.json"], tokenSecretRef: { name: "hf-token" } } },
      },
      storage: { backend: "PVC", pvc: { size: "40Gi", accessMode: "ReadWriteMany" } },
      namespace: "mc-ml-team",
      claimName: "qwen3-8b-3f9c2a1b7d",
      mountPath: "/models/qwen3-8b",
      hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8 },
      hydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0",
      retention: { whenUnselected: "Retain" },
      ...spec,
    },
  };
  if (status) xr["status"] = status;
  return xr;
}

/** The function's Input with a tenancy policy, as a platform engineer writes it in the Composition. */
export function tenancyInput(tenancy: JsonObject, more: JsonObject = {}): JsonObject {
  return { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", ...more, tenancy };
}

export function request(
  xr: JsonObject,
  observed: Record<string, ResourceState> = {},
  desired: Record<string, ResourceState> = {},
  required: Record<string, JsonObject[]> = {},
  input?: JsonObject,
): FunctionRequest {
  return {
    tag: "t",
    observed: { composite: { resource: xr, connectionDetails: {}, ready: "Unspecified" }, resources: observed },
    desired: { composite: undefined, resources: desired },
    input,
    context: undefined,
    requiredResources: required,
    capabilities: [],
    credentials: {},
  };
}

export interface ObservedAs {
  /** The cluster object's status as provider-kubernetes read it. */
  status?: JsonObject;
  /** Extra top-level fields of the cluster object (e.g. ConfigMap data). */
  extra?: JsonObject;
  /** The cluster object does not exist (Observe-only Objects report this). */
  missing?: boolean;
  ready?: boolean;
  name?: string;
}

/** An Object as Crossplane would observe it after provider-kubernetes applied the desired one. */
export function observedObject(key: string, desired: JsonObject, as: ObservedAs = {}): ResourceState {
  const manifest = field(desired, "spec", "forProvider", "manifest");
  const isObj = desired["kind"] === "Object";
  const status: JsonObject = {};
  if (as.missing) {
    status["conditions"] = [
      {
        type: "Synced",
        status: "False",
        reason: "ReconcileError",
        message: "cannot observe external resource: external resource does not exist",
        lastTransitionTime: "2024-01-01T00:00:00Z",
      },
    ];
  } else {
    status["conditions"] = [
      { type: "Synced", status: "True", reason: "ReconcileSuccess", lastTransitionTime: "2024-01-01T00:00:00Z" },
      {
        type: "Ready",
        status: as.ready === false ? "False" : "True",
        reason: as.ready === false ? "Unavailable" : "Available",
        lastTransitionTime: "2024-01-01T00:00:00Z",
      },
    ];
    if (isObj && isObject(manifest)) {
      const m: JsonObject = { ...manifest, ...(as.extra ?? {}) };
      if (as.status) m["status"] = as.status;
      status["atProvider"] = { manifest: m };
    }
  }
  const resource: JsonObject = {
    ...desired,
    metadata: {
      ...(isObject(desired["metadata"]) ? desired["metadata"] : {}),
      name: as.name ?? `qwen3-8b-prod-east-${key.replace(/[^a-z0-9-]/g, "").slice(0, 40)}`,
      namespace: "ml-team",
      annotations: { ...((field(desired, "metadata", "annotations") as JsonObject | undefined) ?? {}), "crossplane.io/composition-resource-name": key },
      labels: { "crossplane.io/composite": "qwen3-8b-prod-east" },
    },
    status,
  };
  return { resource, connectionDetails: {}, ready: "Unspecified" };
}

export function reportData(report: Record<string, JsonValue>): JsonObject {
  return { data: { "report.json": JSON.stringify(report) } };
}

export const EPOCH_MS = Date.parse("2024-01-01T00:00:00Z");

/** Compose, then observe what was composed as the scenario says, and compose again. */
export function compose(
  xr: JsonObject,
  observed: Record<string, ResourceState> = {},
  now = EPOCH_MS + 365 * 86400_000,
  required: Record<string, JsonObject[]> = {},
  input?: JsonObject,
): FunctionResponse {
  return composeReplica(request(xr, observed, {}, required, input), { now: () => now });
}

export interface Compact {
  /** The replica in the compact form: cacheRef, cluster, contractHash. */
  xr: JsonObject;
  contract: { hash: string; spec: JsonObject };
}

/** A full-form replica split as the fleet level composes it: the contract, and a replica naming it. */
export function compactForm(full: JsonObject): Compact {
  const { cacheRef, cluster, ...rest } = full["spec"] as JsonObject;
  const contract = { hash: contractHash(rest), spec: rest };
  return { xr: { ...full, spec: { cacheRef: cacheRef ?? null, cluster: cluster ?? null, contractHash: contract.hash } }, contract };
}

/** The contract's ConfigMap as the fleet composes it and Crossplane delivers it. */
export function contractMap(contract: { hash: string; spec: JsonObject }, cache = "qwen3-8b"): JsonObject {
  return contractConfigMap(cache, "ml-team", contract.hash, contract.spec);
}

export function statusOf(rsp: FunctionResponse): ModelCacheReplicaStatus {
  return (rsp.desired.composite?.resource["status"] ?? {}) as ModelCacheReplicaStatus;
}

/** Keys of the desired resources that wrap a manifest of `kind`. */
export function keysOfKind(rsp: FunctionResponse, kind: string): string[] {
  return Object.entries(rsp.desired.resources)
    .filter(([, s]) => field(s.resource, "spec", "forProvider", "manifest", "kind") === kind)
    .map(([k]) => k)
    .sort();
}

export function manifestAt(rsp: FunctionResponse, key: string): JsonObject {
  const m = field(rsp.desired.resources[key]?.resource, "spec", "forProvider", "manifest");
  if (!isObject(m)) throw new Error(`no manifest at ${key}`);
  return m;
}
