// The fleet bench's requests (run.ts, profile.ts): InferenceClusters with
// realistic DRA pools and a ModelCache selecting them by CEL, first pass or
// converged, serialized as Crossplane sends them.
import { field } from "../../test/support/protobuf-framing.ts";
import { loadProtocol } from "../../functions/protocol/load.ts";
import { toStruct } from "../../functions/protocol/struct.ts";
import type { RunFunctionRequest } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { CLUSTERS_REQUIREMENT, composeFleet } from "../../functions/composition/fleet/compose.ts";
import { COMMIT, DIGEST, GPUS, inferenceCluster, request } from "../../test/support/fleet-builders.ts";
import { contractKey, isContractKey } from "../../functions/composition/contract-configmap.ts";

export const MiB = 1024 * 1024;
export const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";
export const CEL = `cluster.devices.exists(device, device.driver == "gpu.nvidia.com" &&
  device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`;

function struct(v: JsonObject, path: string) {
  const s = toStruct(v, path);
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
}

export function cluster(i: number, withPools = true): JsonObject {
  const region = ["us-east1", "us-central1", "europe-west4", "asia-northeast1"][i % 4] ?? "us-east1";
  return inferenceCluster({
    name: `gke-${region}-prod-${String(i).padStart(4, "0")}`,
    labels: { region, tier: "prod", "topology.kubernetes.io/region": region },
    cloud: "GKE",
    storageClassName: "filestore-rwx",
    pools: withPools ? [{ gpu: GPUS.H100, nodes: 8 + (i % 9) }] : [],
  });
}

export const svc = loadProtocol().FunctionRunnerService.service.RunFunction;

// Protobuf framing (test/support), to build the required resources one cluster at a time: at 5,000 clusters the
// whole request as objects (JSON, then Struct) would not fit this process's heap.

/** One cluster as the bytes of a Resource message (resource = 1), via the real encoder. */
function resourceBytes(c: JsonObject): Buffer {
  // RunFunctionRequest.input (field 4) is a Struct: encode it there and strip the field's framing.
  const wrapped = svc.requestSerialize({ input: struct(c, "cluster") });
  const r = { pos: 1 };
  let len = 0;
  for (let mul = 1; ; mul *= 128) {
    const b = wrapped[r.pos++] ?? 0;
    len += (b & 0x7f) * mul;
    if (b < 0x80) break;
  }
  return field(1, wrapped.subarray(r.pos, r.pos + len));
}

/** required_resources (field 8): one map entry, key "clusters", value Resources { items = 1 }, with `n` clusters. */
export function clustersField(n: number): Buffer {
  const items = Array.from({ length: n }, (_, i) => field(1, resourceBytes(cluster(i))));
  return field(8, Buffer.concat([field(1, Buffer.from(CLUSTERS_REQUIREMENT)), field(2, Buffer.concat(items))]));
}

/** The request: everything but the clusters through the real encoder, the clusters framed one by one (clustersField, built once per size). */
export function wireRequest(xr: JsonObject, n: number, observed: Record<string, JsonObject>, clusters: Buffer = clustersField(n)): Buffer {
  const resources: Record<string, { resource: ReturnType<typeof struct> }> = {};
  for (const [k, v] of Object.entries(observed)) resources[k] = { resource: struct(v, k) };
  const rest = svc.requestSerialize({
    meta: { tag: "bench" },
    observed: { composite: { resource: struct(xr, "xr") }, resources },
    desired: { composite: { resource: struct({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache" }, "d") }, resources: {} },
    input: struct({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input" }, "input"),
  } satisfies RunFunctionRequest);
  return Buffer.concat([rest, clusters]);
}

/** Every replica observed Ready at the pinned bytes: what a converged fleet sends on each reconcile. */
export function steady(xr: JsonObject, n: number): { xr: JsonObject; observed: Record<string, JsonObject> } {
  // The replicas' specs do not depend on the pools or the selector: composed here without either.
  const cs = Array.from({ length: n }, (_, i) => cluster(i, false));
  const { clusterSelector: _, ...spec } = xr["spec"] as JsonObject;
  const first = composeFleet(request({ ...xr, spec }, { clusters: cs }), { defaultHydratorImage: IMAGE });
  const st = (first.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const observed: Record<string, JsonObject> = {};
  for (const [key, r] of Object.entries(first.desired.resources)) {
    const metadata = { ...(r.resource["metadata"] as JsonObject), annotations: { "crossplane.io/composition-resource-name": key } };
    // The contract's ConfigMap is observed as composed; only replicas report a status.
    if (isContractKey(key)) {
      observed[key] = { ...r.resource, metadata };
      continue;
    }
    observed[key] = {
      ...r.resource,
      metadata,
      status: {
        phase: "Ready",
        claimName: String(st["claimName"]),
        namespace: "model-cache",
        mountPath: "/models/qwen3-8b",
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        bytesDone: 16_384_000_000,
        bytesTotal: 16_384_000_000,
        attempts: 1,
      },
    };
  }
  // The status a converged reconcile writes (pin, summary, every cluster's line), read back as Crossplane does.
  const observedStates = Object.fromEntries(Object.entries(observed).map(([k, resource]) => [k, { resource, connectionDetails: {}, ready: "True" as const }]));
  const converged = composeFleet(request({ ...xr, spec }, { clusters: cs, observed: observedStates }), { defaultHydratorImage: IMAGE });
  const status = (converged.desired.composite?.resource["status"] ?? {}) as JsonObject;
  // Converged: every replica (and the one ConfigMap left) is what that reconcile composed, naming the pinned contract;
  // replicas still naming the unpinned one would keep its ConfigMap in the response too.
  const hash = String((status["replicaContract"] as JsonObject | undefined)?.["hash"]);
  const settled: Record<string, JsonObject> = {};
  for (const [key, r] of Object.entries(converged.desired.resources)) {
    if (isContractKey(key) && key !== contractKey(hash)) continue;
    const before = observed[key];
    settled[key] = {
      ...r.resource,
      metadata: { ...(r.resource["metadata"] as JsonObject), annotations: { "crossplane.io/composition-resource-name": key } },
      ...(before?.["status"] !== undefined ? { status: before["status"] } : {}),
    };
  }
  return {
    xr: {
      ...xr,
      status: { ...status, conditions: converged.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message ?? "" })) },
    },
    observed: settled,
  };
}

/**
 * What one compact replica's reconcile fetches as its required resource: the
 * contract's ConfigMap as JSON (what the API server sends), computed in
 * process from the same request; modelCacheBytes is the ModelCache (with its
 * status) that it fetched before.
 */
export function contractBytes(xr: JsonObject, n: number, observed: Record<string, JsonObject>): number {
  const cs = Array.from({ length: n }, (_, i) => cluster(i, false));
  const { clusterSelector: _, ...spec } = xr["spec"] as JsonObject;
  const states = Object.fromEntries(Object.entries(observed).map(([k, resource]) => [k, { resource, connectionDetails: {}, ready: "True" as const }]));
  const rsp = composeFleet(request({ ...xr, spec }, { clusters: cs, observed: states }), { defaultHydratorImage: IMAGE });
  const st = (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const hash = String((st["replicaContract"] as JsonObject | undefined)?.["hash"]);
  const cm = rsp.desired.resources[contractKey(hash)]?.resource;
  if (cm === undefined) throw new Error(`no contract ConfigMap for ${hash}`);
  return Buffer.byteLength(JSON.stringify(cm));
}
