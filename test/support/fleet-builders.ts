// Builders shared by the fleet's tests, its examples generator and its
// benchmark: realistic InferenceClusters (DRA pools as the NVIDIA driver
// publishes them), ModelCache XRs, observed replicas and requests.
import { createHash } from "node:crypto";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { contractKey, isContractKey, readContract } from "../../functions/composition/contract-configmap.ts";

export interface Gpu {
  productName: string;
  architecture: string;
  cudaComputeCapability: string;
  memory: string;
}

export const GPUS = {
  H100: { productName: "NVIDIA H100 80GB HBM3", architecture: "Hopper", cudaComputeCapability: "9.0.0", memory: "81559Mi" },
  H200: { productName: "NVIDIA H200", architecture: "Hopper", cudaComputeCapability: "9.0.0", memory: "143771Mi" },
  A100: { productName: "NVIDIA A100-SXM4-80GB", architecture: "Ampere", cudaComputeCapability: "8.0.0", memory: "81920Mi" },
  L40S: { productName: "NVIDIA L40S", architecture: "Ada Lovelace", cudaComputeCapability: "8.9.0", memory: "46068Mi" },
} as const satisfies Record<string, Gpu>;

export interface PoolSpec {
  gpu: Gpu;
  nodes: number;
  perNode?: number;
}

export interface ClusterSpec {
  name: string;
  labels?: Record<string, string>;
  cloud?: string;
  /** null: the cluster has no provider config yet. */
  providerConfig?: string | null;
  /** null: no RWX storage class. */
  storageClassName?: string | null;
  csiDrivers?: string[];
  pools?: PoolSpec[];
}

function hex(seed: string, n: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, n);
}

function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One device per GPU, with the attributes the NVIDIA DRA driver publishes. */
export function poolDevices(cluster: string, pool: string, p: PoolSpec): JsonObject[] {
  const out: JsonObject[] = [];
  const perNode = p.perNode ?? 8;
  for (let n = 0; n < p.nodes; n++)
    for (let g = 0; g < perNode; g++) {
      const node = `${pool}-node-${n}`;
      out.push({
        name: `${node}-gpu-${g}`,
        driver: "gpu.nvidia.com",
        deviceClassName: "gpu.nvidia.com",
        attributes: {
          type: { string: "gpu" },
          uuid: { string: uuid(`${cluster}/${node}/${g}`) },
          productName: { string: p.gpu.productName },
          brand: { string: "Nvidia" },
          architecture: { string: p.gpu.architecture },
          cudaComputeCapability: { version: p.gpu.cudaComputeCapability },
          driverVersion: { version: "580.126.20" },
          cudaDriverVersion: { version: "13.0.0" },
          "resource.kubernetes.io/pciBusID": { string: `0000:${(0x18 + g * 0x12).toString(16).padStart(2, "0")}:00.0` },
          "resource.kubernetes.io/pcieRoot": { string: `pci0000:${g < perNode / 2 ? "10" : "90"}` },
        },
        capacity: { memory: { value: p.gpu.memory } },
      });
    }
  return out;
}

export function inferenceCluster(c: ClusterSpec): JsonObject {
  const status: JsonObject = {};
  if (c.providerConfig !== null) status["providerConfigRef"] = { kind: "ClusterProviderConfig", name: c.providerConfig ?? c.name };
  if (c.storageClassName !== null) status["cache"] = { storageClassName: c.storageClassName ?? "rwx" };
  status["gpuPools"] = (c.pools ?? []).map((p, i) => {
    const pool = `${p.gpu.architecture.toLowerCase().replace(/\s+/g, "-")}-${i}`;
    return { name: pool, nodes: p.nodes, devices: poolDevices(c.name, pool, p) };
  });
  return {
    apiVersion: "modelplane.ai/v1alpha1",
    kind: "InferenceCluster",
    metadata: { name: c.name, labels: c.labels ?? {} },
    spec: { cluster: { source: c.cloud ?? "GKE" }, storage: { csiDrivers: c.csiDrivers ?? ["SharedFilesystem"] } },
    status,
  };
}

/** The four clusters most examples and tests select from. */
export function fleet(): JsonObject[] {
  return [
    inferenceCluster({
      name: "gke-us-east1-h100",
      labels: { region: "us-east1", tier: "prod" },
      cloud: "GKE",
      storageClassName: "filestore-rwx",
      pools: [{ gpu: GPUS.H100, nodes: 2 }],
    }),
    inferenceCluster({
      name: "eks-us-east-1-h100",
      labels: { region: "us-east-1", tier: "prod" },
      cloud: "EKS",
      storageClassName: "efs-sc",
      pools: [
        { gpu: GPUS.H100, nodes: 1 },
        { gpu: GPUS.L40S, nodes: 1 },
      ],
    }),
    inferenceCluster({
      name: "aks-eastus-a100",
      labels: { region: "eastus", tier: "prod" },
      cloud: "AKS",
      storageClassName: "azurefile-csi-premium",
      pools: [{ gpu: GPUS.A100, nodes: 2 }],
    }),
    inferenceCluster({
      name: "onprem-l40s",
      labels: { region: "dc1", tier: "dev" },
      cloud: "Existing",
      storageClassName: "cephfs",
      pools: [{ gpu: GPUS.L40S, nodes: 1 }],
    }),
  ];
}

export const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
export const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
export const OTHER_COMMIT = "c0ffee00d5e6f708192a3b4c5d6e7f8091a2b3c4";
export const OTHER_DIGEST = "sha256:9999999c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";

export function modelCache(spec: JsonObject = {}, opts: { annotations?: Record<string, string>; status?: JsonObject } = {}): JsonObject {
  const xr: JsonObject = {
    apiVersion: "modelcache.dev/v1alpha1",
    kind: "ModelCache",
    metadata: { name: "qwen3-8b", namespace: "ml-team", ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", tokenSecretRef: { name: "hf-token" } } } },
      storage: { backend: "PVC", pvc: { size: "40Gi" } },
      ...spec,
    },
  };
  if (opts.status) xr["status"] = opts.status;
  return xr;
}

/** A replica as Crossplane would observe it: what we composed plus what its cluster reported. */
export function observedReplica(desired: JsonObject, status: JsonObject | undefined, key: string): ResourceState {
  const meta = (desired["metadata"] ?? {}) as JsonObject;
  const resource: JsonObject = {
    ...desired,
    metadata: { ...meta, annotations: { "crossplane.io/composition-resource-name": key }, uid: `uid-${key}` },
  };
  if (status) resource["status"] = status;
  return { resource, connectionDetails: {}, ready: "Unspecified" };
}

export function request(
  xr: JsonObject,
  opts: { clusters?: JsonObject[]; observed?: Record<string, ResourceState>; desired?: Record<string, ResourceState>; input?: JsonObject } = {},
): FunctionRequest {
  return {
    tag: "tag",
    observed: { composite: { resource: xr, connectionDetails: {}, ready: "Unspecified" }, resources: opts.observed ?? {} },
    desired: {
      composite: { resource: { apiVersion: xr["apiVersion"] ?? null, kind: xr["kind"] ?? null }, connectionDetails: {}, ready: "Unspecified" },
      resources: opts.desired ?? {},
    },
    input: opts.input,
    context: undefined,
    requiredResources: opts.clusters ? { clusters: opts.clusters } : {},
    capabilities: [],
    credentials: {},
  };
}

/** The contract a response composes: the hash in status, the spec from its ConfigMap among the desired resources. */
export function contractOf(rsp: FunctionResponse): { hash: string; spec: JsonObject } {
  const st = (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const hash = String((st["replicaContract"] as JsonObject | undefined)?.["hash"]);
  const read = readContract(rsp.desired.resources[contractKey(hash)]?.resource ?? {}, hash);
  if (!read.ok) throw new Error(`no contract ConfigMap for ${hash}: ${read.problem}`);
  return { hash, spec: read.spec };
}

/** The desired replicas only, without the contract ConfigMaps. */
export function replicaKeys(rsp: FunctionResponse): string[] {
  return Object.keys(rsp.desired.resources)
    .filter((k) => !isContractKey(k))
    .sort();
}
