// Workloads of every supported kind, ModelCaches in each state and requests
// built from them: shared by the unit tests and the script that writes the
// serving examples (scripts/examples/serving.ts), so both describe the same fleet.
import type { FunctionRequest, JsonObject, ResourceState } from "../../functions/sdk/types.ts";

export const CLUSTER = "gke-us-east1-a";
export const CACHE_NS = "mc-ml-team";
/** The first revision's volume and verified manifest, and the second's (a revision rollout). */
export const V1_CLAIM = "qwen3-8b-9b1e4d2c6a";
export const V1_PIN = "sha256:0c7f1a2b3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4";
export const V2_CLAIM = "qwen3-8b-2a7f3c9e1d";
export const V2_PIN = "sha256:5d41402abc4b2a76b9719d911017c592ae2f3d1c5a0f6ab8b2e7c1e0f3a9d4b1";

const vllm = (name: string, args: string[]): JsonObject => ({
  name,
  image: "vllm/vllm-openai:v0.11.0",
  args,
  ports: [{ containerPort: 8000, name: "http" }],
  resources: { limits: { "nvidia.com/gpu": "1" } },
  volumeMounts: [{ name: "shm", mountPath: "/dev/shm" }],
});
const shm: JsonObject = { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } };

export function deployment(annotations: Record<string, string> = { "modelcache.dev/caches": "qwen3-8b" }, namespace = CACHE_NS): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "qwen3-8b", namespace, annotations },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "qwen3-8b" } },
      template: {
        metadata: { labels: { app: "qwen3-8b" } },
        spec: {
          containers: [
            vllm("vllm", ["--model=/models/qwen3-8b", "--served-model-name=qwen3-8b"]),
            { name: "metrics-sidecar", image: "prom/statsd-exporter:v0.28.0" },
          ],
          volumes: [shm],
        },
      },
    },
  };
}

export function statefulSet(annotations: Record<string, string> = { "modelcache.dev/caches": "qwen3-8b" }): JsonObject {
  const d = deployment(annotations);
  const spec = d["spec"] as JsonObject;
  return { ...d, kind: "StatefulSet", spec: { ...spec, serviceName: "qwen3-8b" } };
}

/** Seed 004's multi-node example: a gang of a leader and workers, every pod mounting the same RWX claim. */
export function leaderWorkerSet(annotations: Record<string, string> = { "modelcache.dev/caches": "qwen3-8b" }): JsonObject {
  const ray = (role: string) => vllm(role, ["--model=/models/qwen3-8b", "--tensor-parallel-size=8", "--pipeline-parallel-size=2"]);
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "qwen3-8b-gang", namespace: CACHE_NS, annotations },
    spec: {
      replicas: 1,
      leaderWorkerTemplate: {
        size: 2,
        restartPolicy: "RecreateGroupOnPodRestart",
        leaderTemplate: { metadata: { labels: { role: "leader" } }, spec: { containers: [ray("leader")], volumes: [shm] } },
        workerTemplate: { metadata: { labels: { role: "worker" } }, spec: { containers: [ray("worker")], volumes: [shm] } },
      },
    },
  };
}

export function inferenceService(annotations: Record<string, string> = { "modelcache.dev/caches": "qwen3-8b" }): JsonObject {
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { name: "qwen3-8b", namespace: CACHE_NS, annotations },
    spec: {
      predictor: {
        minReplicas: 1,
        model: { modelFormat: { name: "huggingface" }, args: ["--model_dir=/models/qwen3-8b"], resources: { limits: { "nvidia.com/gpu": "1" } } },
      },
    },
  };
}

/** A workload wrapped in a provider-kubernetes Object addressed at the cluster, as a serving composition composes it. */
export function wrapped(manifest: JsonObject, cluster = CLUSTER): JsonObject {
  return {
    apiVersion: "kubernetes.m.crossplane.io/v1alpha1",
    kind: "Object",
    metadata: { annotations: { "modelcache.dev/cluster": cluster } },
    spec: { providerConfigRef: { kind: "ClusterProviderConfig", name: cluster }, forProvider: { manifest } },
  };
}

/** node-source: replication AllMatchingNodes, every node Ready, each hydrated from the source (no shared claim on the cluster). */
export type CacheState = "hydrating" | "ready" | "rollout-hydrating" | "rollout-verified" | "drift" | "node-source";

/** A ModelCache as the fleet level reports it, on one cluster, in each state a consumer meets. */
export function modelCache(state: CacheState, over: { accessMode?: string; namespace?: string; cluster?: string } = {}): JsonObject {
  const v2 = state.startsWith("rollout");
  const cs: JsonObject = { name: over.cluster ?? CLUSTER, phase: "Ready" };
  if (state === "hydrating" || state === "rollout-hydrating")
    Object.assign(cs, {
      phase: "Hydrating",
      bytesDone: 12 * 2 ** 30,
      bytesTotal: 16 * 2 ** 30,
      bytesPerSecond: 104857600,
      etaSeconds: 41,
      message: "hydrating: 12.00 GiB of 16.00 GiB (75%), about 41s left",
    });
  if (state === "drift")
    Object.assign(cs, {
      phase: "Failed",
      drift: true,
      manifestDigest: "sha256:ffff000000000000000000000000000000000000000000000000000000000000",
      message: "the volume holds bytes other than the pinned manifest",
    });
  if (state === "node-source") Object.assign(cs, { nodes: { ready: "2/2", selected: 2, readyCount: 2 }, seed: "Source" });
  const status: JsonObject = {
    ready: cs["phase"] === "Ready" ? "1/1" : "0/1",
    mountPath: "/models/qwen3-8b",
    claimName: v2 ? V2_CLAIM : V1_CLAIM,
    namespace: CACHE_NS,
    clusters: [cs],
  };
  // First hydration of a mutable revision: nothing pinned yet. A rollout still hydrating: the pin is the old
  // source's (its identity is not the new source's). Otherwise the pin is the current source's.
  if (state === "rollout-hydrating") status["pin"] = { resolvedRevision: "a1b2c3d", manifestDigest: V1_PIN, pinnedFrom: CLUSTER, identity: "0000000000" };
  else if (state !== "hydrating")
    status["pin"] = v2
      ? { resolvedRevision: "d4e5f6a", manifestDigest: V2_PIN, pinnedFrom: CLUSTER }
      : { resolvedRevision: "a1b2c3d", manifestDigest: V1_PIN, pinnedFrom: CLUSTER };
  return {
    apiVersion: "modelcache.dev/v1alpha1",
    kind: "ModelCache",
    metadata: { name: "qwen3-8b", namespace: over.namespace ?? "ml-team" },
    spec: {
      artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: v2 ? "v2" : "v1" } } },
      storage: { backend: "PVC", pvc: { size: "40Gi", accessMode: over.accessMode ?? "ReadWriteMany" } },
      mountPath: "/models/qwen3-8b",
      ...(state === "node-source" ? { replication: "AllMatchingNodes", nodeLocal: { size: "40Gi", seed: "Source" } } : {}),
    },
    status,
  };
}

export function servingInput(serving: JsonObject = {}): JsonObject {
  return { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", serving };
}

export const CONSUMER: JsonObject = {
  apiVersion: "platform.example.org/v1alpha1",
  kind: "ServedModel",
  metadata: { name: "qwen3-8b", namespace: "ml-team" },
  spec: { model: "qwen3-8b" },
};

export function state(resource: JsonObject, ready: ResourceState["ready"] = "Unspecified"): ResourceState {
  return { resource, connectionDetails: {}, ready };
}

export function servingRequest(p: {
  desired: Record<string, JsonObject>;
  observed?: Record<string, JsonObject>;
  required?: Record<string, JsonObject[]>;
  input?: JsonObject;
  xr?: JsonObject;
}): FunctionRequest {
  const xr = p.xr ?? CONSUMER;
  return {
    tag: "t",
    observed: { composite: state(xr), resources: Object.fromEntries(Object.entries(p.observed ?? {}).map(([k, v]) => [k, state(v)])) },
    desired: {
      composite: state({ apiVersion: xr["apiVersion"] ?? null, kind: xr["kind"] ?? null }),
      resources: Object.fromEntries(Object.entries(p.desired).map(([k, v]) => [k, state(v)])),
    },
    input: p.input ?? servingInput(),
    context: undefined,
    requiredResources: p.required ?? {},
    capabilities: [],
    credentials: {},
  };
}
