// composeFleet, case by case: each case says why it exists and checks the
// part of the response that behaviour lives in (the whole response where it
// fits, as Crossplane's Go functions do).
import { describe, expect, it } from "vitest";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceState } from "../../sdk/types.ts";
import type { CompileSelector } from "./cel.ts";
import { canonicalJson, contractHash } from "./contract.ts";
import { composeFleet, type FleetOptions } from "./compose.ts";
import {
  COMMIT,
  contractOf,
  replicaKeys,
  DIGEST,
  fleet,
  GPUS,
  inferenceCluster,
  modelCache,
  observedReplica,
  OTHER_DIGEST,
  request,
} from "../../../test/support/fleet-builders.ts";
import { replicaName } from "./names.ts";
import { SOURCE_KEYS } from "../../sources/registry.ts";
import { field } from "../../common/json.ts";

const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";
const opts: FleetOptions = { defaultHydratorImage: IMAGE };
/** The clusters requirement for a cache selecting on `labels`: Crossplane is asked for those alone. */
const clustersAsked = (labels: Record<string, string>) => ({ apiVersion: "modelplane.ai/v1alpha1", kind: "InferenceCluster", match: { labels } });
const byNameAsked = (name: string) => ({ apiVersion: "modelplane.ai/v1alpha1", kind: "InferenceCluster", match: { name } });
const REQUIREMENTS = { resources: { clusters: clustersAsked({ tier: "prod" }) } };
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const CLAIM = "qwen3-8b-52f65bb112";
const IDENTITY = "52f65bb112";

function status(rsp: FunctionResponse): JsonObject {
  return (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
}
function clusters(rsp: FunctionResponse): JsonObject[] {
  return (status(rsp)["clusters"] ?? []) as JsonObject[];
}
/** A composed replica's spec as the cluster level resolves it: the contract it names, then its own cacheRef and cluster. */
function resolvedSpec(rsp: FunctionResponse, key: string): JsonObject {
  const spec = rsp.desired.resources[key]?.resource["spec"] as JsonObject;
  const contract = contractOf(rsp);
  expect(spec["contractHash"]).toBe(contract.hash);
  return { ...contract.spec, cacheRef: spec["cacheRef"] ?? null, cluster: spec["cluster"] ?? null };
}
function cond(rsp: FunctionResponse, type: string) {
  return rsp.conditions.find((c) => c.type === type);
}
function fatalOf(rsp: FunctionResponse) {
  return rsp.results.find((r) => r.severity === "Fatal");
}

/** Replicas as composed for `xr` over `cs`, observed with the given statuses. */
function observedFor(xr: JsonObject, cs: JsonObject[], statuses: Record<string, JsonObject | undefined>): Record<string, ResourceState> {
  const rsp = composeFleet(request(xr, { clusters: cs }), opts);
  const out: Record<string, ResourceState> = {};
  for (const [key, r] of Object.entries(rsp.desired.resources)) {
    // The contract ConfigMap is observed as composed; it names no cluster.
    if (r.resource["kind"] === "ConfigMap") {
      out[key] = observedReplica(r.resource, undefined, key);
      continue;
    }
    const cluster = ((r.resource["spec"] as JsonObject)["cluster"] as JsonObject)["name"] as string;
    if (cluster in statuses) out[key] = observedReplica(r.resource, statuses[cluster], key);
  }
  return out;
}

const ready = (extra: JsonObject = {}): JsonObject => ({
  phase: "Ready",
  claimName: CLAIM,
  resolvedRevision: COMMIT,
  manifestDigest: DIGEST,
  bytesDone: 100,
  bytesTotal: 100,
  ...extra,
});
const pinned = { pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST, pinnedFrom: "gke-us-east1-h100", identity: IDENTITY } };

describe("the whole response for one selected cluster, first pass", () => {
  it("composes one compact replica and the ConfigMap of the contract it names (its hash in status), Pending status, conditions, a short TTL and the requirement", () => {
    const contract: JsonObject = {
      artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", tokenSecretRef: { name: "hf-token" } } } },
      storage: { backend: "PVC", pvc: { size: "40Gi" } },
      namespace: "mc-ml-team",
      claimName: CLAIM,
      mountPath: "/models/qwen3-8b",
      hydratorImage: IMAGE,
    };
    const hash = contractHash(contract);
    const rsp = composeFleet(request(modelCache({ clusterSelector: { matchLabels: { region: "us-east1" } } }), { clusters: fleet() }), opts);
    expect(rsp).toEqual({
      tag: "tag",
      ttlSeconds: 15,
      context: undefined,
      requirements: { resources: { clusters: clustersAsked({ region: "us-east1" }) } },
      results: [
        {
          severity: "Normal",
          reason: "ReplicaCreated",
          message: "composed a replica for each of 1 newly selected cluster: gke-us-east1-h100",
          target: "Composite",
        },
      ],
      conditions: [
        { type: "ClustersSelected", status: "True", reason: "Selected", message: "1 of 4 InferenceClusters selected: gke-us-east1-h100", target: "Composite" },
        {
          type: "ArtifactPinned",
          status: "False",
          reason: "WaitingForFirstVerification",
          message: "hf://Qwen/Qwen3-8B@main is a mutable reference: the first cluster to verify it fixes the revision and manifest for every cluster",
          target: "Composite",
        },
        { type: "ClustersReady", status: "False", reason: "Pending", message: "0/1 clusters ready; waiting for: gke-us-east1-h100", target: "Composite" },
      ],
      desired: {
        composite: {
          connectionDetails: {},
          ready: "False",
          resource: {
            apiVersion: "modelcache.dev/v1alpha1",
            kind: "ModelCache",
            status: {
              ready: "0/1",
              summary: { selected: 1, ready: 0, failed: 0, drifted: 0, blocked: 0, retained: 0 },
              source: "hf://Qwen/Qwen3-8B@main",
              mountPath: "/models/qwen3-8b",
              claimName: CLAIM,
              namespace: "mc-ml-team",
              replicaContract: { hash },
              clusters: [{ name: "gke-us-east1-h100", phase: "Pending" }],
            },
          },
        },
        resources: {
          [`contract-${hash}`]: {
            connectionDetails: {},
            ready: "True",
            resource: {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: {
                name: `qwen3-8b-contract-${hash}`,
                namespace: "ml-team",
                labels: { "modelcache.dev/cache": "qwen3-8b", "modelcache.dev/contract-hash": hash },
              },
              data: { "contract.json": canonicalJson(contract) },
            },
          },
          "replica-gke-us-east1-h100": {
            connectionDetails: {},
            ready: "False",
            resource: {
              apiVersion: "modelcache.dev/v1alpha1",
              kind: "ModelCacheReplica",
              metadata: { name: replicaName("qwen3-8b", "gke-us-east1-h100"), namespace: "ml-team" },
              spec: {
                cacheRef: { name: "qwen3-8b" },
                cluster: {
                  name: "gke-us-east1-h100",
                  providerConfigRef: { name: "gke-us-east1-h100" },
                  cloud: "GKE",
                  storageClassName: "filestore-rwx",
                  csiDrivers: ["SharedFilesystem"],
                },
                contractHash: hash,
              },
            },
          },
        },
      },
    });
  });
});

describe("bad input: a Fatal result naming the field, and nothing dropped", () => {
  const other: ResourceState = {
    resource: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "from-an-earlier-step" } },
    connectionDetails: {},
    ready: "True",
  };
  it.each<{ reason: string; spec: JsonObject; want: string }>([
    {
      reason: "a repo that is not a Hugging Face repo id",
      spec: { artifact: { source: { huggingFace: { repo: "not a repo" } } } },
      want: "spec.artifact.source.huggingFace.repo: must be a Hugging Face repo id such as Qwen/Qwen3-8B",
    },
    {
      reason: "two sources at once",
      spec: { artifact: { source: { s3: { uri: "s3://bucket/x" }, configMap: { name: "x" } } } },
      want: `spec.artifact.source: exactly one of ${SOURCE_KEYS.join(", ")} must be set; s3 and configMap are`,
    },
    { reason: "a PVC backend without its block", spec: { storage: { backend: "PVC" } }, want: "spec.storage.pvc: is required when backend is PVC" },
    {
      reason: "an In expression without values",
      spec: { clusterSelector: { matchExpressions: [{ key: "a", operator: "In" }] } },
      want: "spec.clusterSelector.matchExpressions[0].values: operator In needs at least one value",
    },
  ])("$reason", ({ spec, want }) => {
    const xr = modelCache(spec);
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready() });
    const req = request(xr, { clusters: fleet(), observed, desired: { other } });
    const rsp = composeFleet(req, opts);
    expect(fatalOf(rsp)?.message).toBe(`invalid ModelCache: ${want}`);
    // Crossplane applies nothing after a Fatal result; the response still keeps every composed
    // resource: earlier steps' as they were, and every replica exactly as observed.
    expect(rsp.desired.composite).toEqual(req.desired.composite);
    expect(rsp.desired.resources["other"]).toBe(other);
    expect(rsp.desired.resources["replica-gke-us-east1-h100"]).toEqual({
      resource: {
        apiVersion: "modelcache.dev/v1alpha1",
        kind: "ModelCacheReplica",
        metadata: { name: replicaName("qwen3-8b", "gke-us-east1-h100"), namespace: "ml-team" },
        spec: observed["replica-gke-us-east1-h100"]?.resource["spec"],
      },
      connectionDetails: {},
      ready: "True",
    });
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(["other", ...Object.keys(observed)].sort());
    // A spec that cannot be read narrows nothing: the Input's requirement alone (a Fatal ends Crossplane's loop anyway).
    expect(rsp.requirements).toEqual({ resources: { clusters: clustersAsked({}) } });
  });

  it.each<{ reason: string; xr: JsonObject; input?: JsonObject; compileSelector?: CompileSelector }>([
    { reason: "a bad CEL expression", xr: modelCache({ clusterSelector: { cel: "x" } }), compileSelector: () => ({ ok: false, message: "syntax error" }) },
    {
      reason: "a bad Input (the replica kind unknown, every replica- key kept)",
      xr: modelCache(prod),
      input: { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", clusterNamespace: "default" },
    },
    { reason: "a ModelCache without a name", xr: { ...modelCache(prod), metadata: { namespace: "ml-team" } } },
  ])("every Fatal keeps every replica already composed: $reason", ({ xr, input, compileSelector }) => {
    const observed = observedFor(modelCache(prod), fleet(), {
      "gke-us-east1-h100": ready(),
      "eks-us-east-1-h100": { phase: "Hydrating" },
      "aks-eastus-a100": undefined,
    });
    const rsp = composeFleet(request(xr, { clusters: fleet(), observed, ...(input ? { input } : {}) }), {
      ...opts,
      ...(compileSelector ? { compileSelector } : {}),
    });
    expect(fatalOf(rsp)).toBeDefined();
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(observed).sort());
    for (const [key, r] of Object.entries(observed)) expect(rsp.desired.resources[key]?.resource["spec"]).toEqual(r.resource["spec"]);
  });

  it("names the Input field when the Input is wrong", () => {
    const rsp = composeFleet(
      request(modelCache(prod), { input: { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", clusterNamespace: "default" } }),
      opts,
    );
    expect(fatalOf(rsp)?.message).toBe("invalid function input: input.clusterNamespace: must not be default or a kube- namespace");
  });
});

describe("required resources", () => {
  it.each<{ reason: string; xr: JsonObject; clusters?: JsonObject[]; want: Record<string, string> }>([
    { reason: "before delivery", xr: modelCache(prod), want: { tier: "prod" } },
    { reason: "on delivery", xr: modelCache(prod), clusters: fleet(), want: { tier: "prod" } },
    { reason: "delivered empty", xr: modelCache(prod), clusters: [], want: { tier: "prod" } },
    { reason: "another cache's labels", xr: modelCache({ clusterSelector: { matchLabels: { tier: "dev" } } }), clusters: fleet(), want: { tier: "dev" } },
    { reason: "no labels in the selector: every cluster of the Input's type", xr: modelCache({ storage: { backend: "PVC" } }), clusters: fleet(), want: {} },
    {
      reason: "the selection explained: every cluster of the Input's type, so status.notSelected lists the labels' reasons too",
      xr: modelCache(prod, { annotations: { "modelcache.dev/explain-selection": "true" } }),
      clusters: fleet(),
      want: {},
    },
    {
      reason: "expressions and CEL narrow nothing (Crossplane's selector takes labels); only matchLabels are asked for",
      xr: modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, matchExpressions: [{ key: "region", operator: "Exists" }], cel: "true" } }),
      want: { tier: "prod" },
    },
  ])("ask Crossplane only for the clusters the cache's matchLabels can match, the same on every call of a reconcile: $reason", ({ xr, clusters, want }) => {
    // Before, the requirement was the Input's alone (every InferenceCluster); the cache's own
    // labels now narrow the answer, so a fleet of many caches each receives only its clusters.
    const rsp = composeFleet(request(xr, clusters ? { clusters } : {}), opts);
    expect(rsp.requirements).toEqual({ resources: { clusters: clustersAsked(want) } });
  });

  it("ask the same on a Fatal after the cache is read (Crossplane stops at a Fatal; nothing else changes it)", () => {
    const rsp = composeFleet(request(modelCache(prod), { clusters: fleet() }), { ...opts, compileSelector: () => ({ ok: false, message: "x" }) });
    const xr = modelCache({ ...prod, clusterSelector: { ...prod.clusterSelector, cel: "x" } });
    const fatal = composeFleet(request(xr, { clusters: fleet() }), { ...opts, compileSelector: () => ({ ok: false, message: "syntax error" }) });
    expect(fatalOf(fatal)).toBeDefined();
    expect(fatal.requirements).toEqual(REQUIREMENTS);
    expect(rsp.requirements).toEqual(REQUIREMENTS);
  });

  it("on a key both the Input and the cache set, the Input's value is asked for (the platform's scope is never widened)", () => {
    const input = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", clusters: { matchLabels: { tier: "prod", pool: "a" } } };
    const xr = modelCache({ clusterSelector: { matchLabels: { tier: "dev", region: "dc1" } } });
    const rsp = composeFleet(request(xr, { input, clusters: [] }), opts);
    expect(rsp.requirements).toEqual({ resources: { clusters: clustersAsked({ tier: "prod", pool: "a", region: "dc1" }) } });
  });

  it("follow the Input: another cluster type, its labels and namespace", () => {
    const input = {
      apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
      kind: "Input",
      clusters: { apiVersion: "example.org/v1", kind: "GpuCluster", matchLabels: { fleet: "a" }, namespace: "infra" },
    };
    const rsp = composeFleet(request(modelCache(prod), { input }), opts);
    // The Input's labels and the cache's (tier: prod) together.
    expect(rsp.requirements).toEqual({
      resources: { clusters: { apiVersion: "example.org/v1", kind: "GpuCluster", match: { labels: { fleet: "a", tier: "prod" } }, namespace: "infra" } },
    });
  });

  it("not yet delivered: every replica already composed is kept unchanged and the status says so", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready(), "aks-eastus-a100": undefined });
    const xr = modelCache(prod, { status: { ...pinned, ready: "1/3" } });
    const rsp = composeFleet(request(xr, { observed }), opts);
    expect(replicaKeys(rsp)).toEqual(["replica-aks-eastus-a100", "replica-gke-us-east1-h100"]);
    expect(rsp.desired.resources["replica-gke-us-east1-h100"]?.resource["spec"]).toEqual(observed["replica-gke-us-east1-h100"]?.resource["spec"]);
    expect(rsp.desired.resources["replica-gke-us-east1-h100"]?.ready).toBe("True");
    expect(cond(rsp, "ClustersSelected")).toMatchObject({ status: "Unknown", reason: "WaitingForClusters" });
    // The last status (and so the pin) is asserted again, not dropped.
    expect(status(rsp)["pin"]).toEqual(pinned.pin);
    expect(rsp.desired.composite?.ready).toBe("False");
  });
});

describe("no data loss", () => {
  it("a cluster missing from the delivered list keeps its replica, reported", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready() });
    const delivered = fleet().filter((c) => (c["metadata"] as JsonObject)["name"] !== "eks-us-east-1-h100");
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: delivered, observed }), opts);
    expect(rsp.desired.resources["replica-eks-us-east-1-h100"]?.resource["spec"]).toEqual(observed["replica-eks-us-east-1-h100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "eks-us-east-1-h100")?.["message"]).toMatch(
      /is not among the delivered InferenceClusters; its replica is kept unchanged/,
    );
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "ReplicaKept" }));
  });

  it("an unreadable cluster keeps its replica, reported", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready() });
    const broken = fleet().map((c) =>
      (c["metadata"] as JsonObject)["name"] === "gke-us-east1-h100" ? { ...c, status: { ...(c["status"] as JsonObject), gpuPools: "not a list" } } : c,
    );
    const rsp = composeFleet(request(modelCache(prod), { clusters: broken, observed }), opts);
    expect(rsp.desired.resources["replica-gke-us-east1-h100"]?.resource["spec"]).toEqual(observed["replica-gke-us-east1-h100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")?.["message"]).toMatch(
      /^cannot read cluster gke-us-east1-h100: status.gpuPools: .*its replica is kept unchanged/,
    );
  });

  it.each<{ reason: string; labels: Record<string, string>; warned: boolean }>([
    { reason: "one the labels would select is reported with why it cannot be read", labels: { tier: "prod" }, warned: true },
    { reason: "one the labels rule out is simply not selected, however broken", labels: { tier: "dev" }, warned: false },
  ])("an unreadable cluster without a replica: $reason", ({ labels, warned }) => {
    const broken = { ...inferenceCluster({ name: "broken", labels }), status: { gpuPools: "not a list" } };
    const xr = modelCache(prod, { annotations: { "modelcache.dev/explain-selection": "true" } });
    const rsp = composeFleet(request(xr, { clusters: [...fleet(), broken] }), opts);
    const warning = rsp.results.find((r) => r.reason === "ClusterUnreadable");
    if (warned)
      expect(warning).toEqual({
        severity: "Warning",
        reason: "ClusterUnreadable",
        target: "Composite",
        message: expect.stringMatching(
          /^1 cluster\(s\) matching the labels could not be read and are not selected: cannot read cluster broken: status.gpuPools: /,
        ) as unknown as string,
      });
    else expect(warning).toBeUndefined();
    expect((status(rsp)["notSelected"] as JsonObject[]).find((n) => n["name"] === "broken")?.["reason"]).toMatch(
      warned ? /^cannot read cluster broken/ : /^matchLabels: tier is "dev"/,
    );
    expect(rsp.desired.resources["replica-broken"]).toBeUndefined();
  });

  it("a cluster that loses its provider config is Blocked but keeps its replica", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready() });
    const cs = fleet().map((c) => ((c["metadata"] as JsonObject)["name"] === "gke-us-east1-h100" ? { ...c, status: { gpuPools: [] } } : c));
    const rsp = composeFleet(request(modelCache(prod), { clusters: cs, observed }), opts);
    expect(rsp.desired.resources["replica-gke-us-east1-h100"]).toBeDefined();
    expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")).toMatchObject({ phase: "Blocked" });
  });

  it("desired resources of earlier steps pass through untouched", () => {
    const other: ResourceState = {
      resource: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: "b" } },
      connectionDetails: { k: new Uint8Array([1]) },
      ready: "True",
    };
    const rsp = composeFleet(request(modelCache(prod), { clusters: fleet(), desired: { other } }), opts);
    expect(rsp.desired.resources["other"]).toBe(other);
  });

  it("status written by earlier steps is kept beside ours", () => {
    const req: FunctionRequest = request(modelCache(prod), { clusters: fleet() });
    req.desired.composite = {
      resource: { apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", status: { fromEarlierStep: "x" } },
      connectionDetails: {},
      ready: "Unspecified",
    };
    expect(status(composeFleet(req, opts))["fromEarlierStep"]).toBe("x");
  });
});

describe("selection", () => {
  it("reports matching clusters that lack what the cache needs as Blocked, with the reason, and does not fan out to them", () => {
    const cs = [
      inferenceCluster({ name: "no-pc", labels: { tier: "prod" }, providerConfig: null }),
      inferenceCluster({ name: "no-rwx", labels: { tier: "prod" }, storageClassName: null }),
      inferenceCluster({ name: "ok", labels: { tier: "prod" } }),
    ];
    const rsp = composeFleet(request(modelCache(prod), { clusters: cs }), opts);
    expect(replicaKeys(rsp)).toEqual(["replica-ok"]);
    expect(clusters(rsp).filter((c) => c["phase"] === "Blocked")).toEqual([
      {
        name: "no-pc",
        phase: "Blocked",
        message: "cluster no-pc has no provider config (status.providerConfigRef.name is empty): nothing can be composed on it yet",
      },
      {
        name: "no-rwx",
        phase: "Blocked",
        message: "cluster no-rwx has no ReadWriteMany storage class (status.cache.storageClassName is empty) and spec.storage.pvc.storageClassName is not set",
      },
    ]);
    expect(cond(rsp, "ClustersSelected")?.message).toBe("1 of 3 InferenceClusters selected: ok; 2 blocked: no-pc, no-rwx");
    expect(cond(rsp, "ClustersReady")?.reason).toBe("ClustersBlocked");
  });

  it("a storageClassName in the spec unblocks a cluster without an RWX class", () => {
    const cs = [inferenceCluster({ name: "no-rwx", labels: { tier: "prod" }, storageClassName: null })];
    const rsp = composeFleet(
      request(modelCache({ ...prod, storage: { backend: "PVC", pvc: { size: "1Gi", storageClassName: "nfs" } } }), { clusters: cs }),
      opts,
    );
    expect(replicaKeys(rsp)).toEqual(["replica-no-rwx"]);
  });

  it("an Engine built for a GPU a cluster does not have blocks that cluster", () => {
    const spec = {
      ...prod,
      artifact: {
        kind: "Engine",
        engine: { runtime: "TensorRT-LLM", profile: "fp8-tp8", gpuProductName: GPUS.H100.productName },
        source: { oci: { reference: "reg.example/engines/qwen:h100" } },
      },
    };
    const rsp = composeFleet(request(modelCache(spec), { clusters: fleet() }), opts);
    expect(replicaKeys(rsp)).toEqual(["replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"]);
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")).toEqual({
      name: "aks-eastus-a100",
      phase: "Blocked",
      message: 'cluster aks-eastus-a100 has no "NVIDIA H100 80GB HBM3" GPU for this engine (its pools have "NVIDIA A100-SXM4-80GB")',
    });
  });

  it("explains every non-selected cluster on request, and only then", () => {
    const xr = modelCache(
      { clusterSelector: { matchLabels: { tier: "prod" }, matchExpressions: [{ key: "region", operator: "NotIn", values: ["eastus"] }] } },
      { annotations: { "modelcache.dev/explain-selection": "true" } },
    );
    const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
    expect(status(rsp)["notSelected"]).toEqual([
      { name: "aks-eastus-a100", reason: 'matchExpressions[0]: region is "eastus", want none of [eastus]' },
      { name: "onprem-l40s", reason: 'matchLabels: tier is "dev", want "prod"' },
    ]);
    const quiet = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
    expect(status(quiet)["notSelected"]).toBeUndefined();
  });

  it("no match: nothing composed, NoClusterMatches, not Ready", () => {
    const rsp = composeFleet(request(modelCache({ clusterSelector: { matchLabels: { tier: "none" } } }), { clusters: fleet() }), opts);
    expect(rsp.desired.resources).toEqual({});
    expect(cond(rsp, "ClustersSelected")).toMatchObject({ status: "False", reason: "NoClusterMatches" });
    expect(cond(rsp, "ClustersReady")).toMatchObject({ status: "False", reason: "NoClusterMatches" });
    expect(rsp.desired.composite?.ready).toBe("False");
    expect(status(rsp)["ready"]).toBe("0/0");
  });

  it("is deterministic whatever order the clusters are delivered in", () => {
    const a = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
    const b = composeFleet(request(modelCache(prod), { clusters: [...fleet()].reverse() }), opts);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe("the CEL seam", () => {
  const compileError: CompileSelector = () => ({ ok: false, message: "syntax error at 1:28: unexpected token ')'" });
  const failsOn =
    (name: string): CompileSelector =>
    () => ({ ok: true, program: { evaluate: (f) => (f.name === name ? { ok: false, message: "no such key: zone" } : { ok: true, value: true }) } });

  it("a compile error is a Fatal result quoting it, with the field path", () => {
    const rsp = composeFleet(request(modelCache({ clusterSelector: { cel: "x" } }), { clusters: fleet() }), { ...opts, compileSelector: compileError });
    expect(fatalOf(rsp)).toEqual({
      severity: "Fatal",
      reason: "InvalidSelector",
      target: "Composite",
      message: "invalid ModelCache: spec.clusterSelector.cel: syntax error at 1:28: unexpected token ')'",
    });
  });

  it("an evaluation error means not selected, reported with its message; a replica already there is kept", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "aks-eastus-a100": ready() });
    const xr = modelCache({ clusterSelector: { cel: "x" } }, { annotations: { "modelcache.dev/explain-selection": "true" } });
    const rsp = composeFleet(request(xr, { clusters: fleet(), observed }), { ...opts, compileSelector: failsOn("aks-eastus-a100") });
    expect(rsp.results).toContainEqual(
      expect.objectContaining({
        severity: "Warning",
        reason: "SelectorEvaluationFailed",
        message: "spec.clusterSelector.cel failed on 1 cluster(s), which are not selected: aks-eastus-a100: evaluation failed: no such key: zone",
      }),
    );
    expect(status(rsp)["notSelected"]).toEqual([{ name: "aks-eastus-a100", reason: "cel: evaluation failed: no such key: zone" }]);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(observed["replica-aks-eastus-a100"]?.resource["spec"]);
  });
});

describe("pinning", () => {
  it("the first verified cluster fixes the pin, every replica gets it, and a Normal event says so", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": { phase: "Hydrating", claimName: CLAIM } });
    const rsp = composeFleet(request(modelCache(prod), { clusters: fleet(), observed }), opts);
    expect(status(rsp)["pin"]).toEqual(pinned.pin);
    for (const key of replicaKeys(rsp)) expect(resolvedSpec(rsp, key)["pin"]).toEqual({ resolvedRevision: COMMIT, manifestDigest: DIGEST });
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Normal", reason: "ArtifactPinned" }));
    expect(cond(rsp, "ArtifactPinned")).toMatchObject({ status: "True", reason: "PinnedFromCluster" });
  });

  it("the pin persists from the observed status: no event again, and a later report cannot move it", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "aks-eastus-a100": ready({ resolvedRevision: "0".repeat(40), manifestDigest: OTHER_DIGEST }) });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(status(rsp)["pin"]).toEqual(pinned.pin);
    expect(rsp.results.filter((r) => r.reason === "ArtifactPinned")).toEqual([]);
  });

  it("a replica reporting other bytes is drift: in its status, a condition and a Warning, and not Ready", () => {
    const observed = observedFor(modelCache(prod), fleet(), {
      "gke-us-east1-h100": ready(),
      "eks-us-east-1-h100": ready({ manifestDigest: OTHER_DIGEST }),
      "aks-eastus-a100": ready(),
    });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(clusters(rsp).find((c) => c["name"] === "eks-us-east-1-h100")).toMatchObject({ drift: true, phase: "Failed", manifestDigest: OTHER_DIGEST });
    expect(rsp.desired.resources["replica-eks-us-east-1-h100"]?.ready).toBe("False");
    expect(cond(rsp, "ClustersReady")).toMatchObject({ status: "False", reason: "Drift" });
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "DriftDetected" }));
    expect(rsp.desired.composite?.ready).toBe("False");
    expect(status(rsp)["summary"]).toMatchObject({ drifted: 1, ready: 2 });
  });

  it("a cluster still holding an earlier revision's volume says so, with who mounts it and when it goes; a cluster with none lists nothing", () => {
    const oldVolumes = [
      {
        claimName: "qwen3-8b-0aa11bb22c",
        mounts: 0,
        unusedSince: "2025-01-01T00:00:00.000Z",
        releaseAt: "2025-01-02T00:00:00.000Z",
        message: "kept until 2025-01-02T00:00:00.000Z unless a workload mounts it again (spec.eviction.ttl 24h)",
      },
    ];
    const observed = observedFor(modelCache(prod), fleet(), {
      "gke-us-east1-h100": ready({ oldVolumes }),
      "eks-us-east-1-h100": ready(),
      "aks-eastus-a100": ready(),
    });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")?.["oldVolumes"]).toStrictEqual([
      { claimName: "qwen3-8b-0aa11bb22c", mounts: 0, releaseAt: "2025-01-02T00:00:00.000Z" },
    ]);
    expect(clusters(rsp).find((c) => c["name"] === "eks-us-east-1-h100")?.["oldVolumes"]).toBeUndefined();
  });

  describe("spec.eviction: disuse releases a cluster's copy, use brings it back", () => {
    const evicting = { ...prod, eviction: { ttl: "24h" } };
    const record = (cluster: string, use: "Mounted" | "Waiting"): JsonObject => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `r-${cluster}`, namespace: "serving" },
      data: { cache: "ml-team/qwen3-8b", cluster, use, workload: "Deployment serving/vllm", consumer: "ServedModel serving/qwen3-8b" },
    });
    const allReady = { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() };
    const NOW = Date.parse("2025-01-02T00:00:00Z");
    function call(
      statusLines: JsonObject[],
      uses: JsonObject[] | undefined,
      observedStatuses: Record<string, JsonObject | undefined> = allReady,
    ): FunctionResponse {
      const observed = observedFor(modelCache(evicting), fleet(), observedStatuses);
      const req = request(modelCache(evicting, { status: { ...pinned, clusters: statusLines } }), { clusters: fleet(), observed });
      if (uses !== undefined) req.requiredResources["uses"] = uses;
      return composeFleet(req, { ...opts, now: () => NOW });
    }

    it("asks Crossplane for every record of the cache, on any cluster, in any namespace", () => {
      expect(call([], undefined).requirements.resources["uses"]).toStrictEqual({
        apiVersion: "v1",
        kind: "ConfigMap",
        match: { labels: { "modelcache.dev/cache": "qwen3-8b", "modelcache.dev/cache-namespace": "ml-team" } },
      });
    });

    it("unused for the TTL: the replica goes, the line says so, summary and event count it; used ones stay; the clock starts on the unused", () => {
      const rsp = call([{ name: "gke-us-east1-h100", phase: "Ready", unusedSince: "2025-01-01T00:00:00.000Z" }], [record("eks-us-east-1-h100", "Mounted")]);
      expect(rsp.desired.resources["replica-gke-us-east1-h100"]).toBeUndefined();
      expect(rsp.desired.resources["replica-eks-us-east-1-h100"]).toBeDefined();
      expect(rsp.desired.resources["replica-aks-eastus-a100"]).toBeDefined();
      expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")).toStrictEqual({
        name: "gke-us-east1-h100",
        phase: "Pending",
        released: true,
        releaseAt: "2025-01-02T00:00:00.000Z",
        message:
          "released at 2025-01-02T00:00:00.000Z: nobody used it for spec.eviction.ttl (24h); its volume stays on the cluster, no longer managed (spec.retention.whenUnselected: Retain); a workload asking for it brings it back",
      });
      expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")).toMatchObject({
        phase: "Ready",
        unusedSince: "2025-01-02T00:00:00.000Z",
        releaseAt: "2025-01-03T00:00:00.000Z",
      });
      expect(clusters(rsp).find((c) => c["name"] === "eks-us-east-1-h100")?.["unusedSince"]).toBeUndefined();
      expect(status(rsp)["summary"]).toMatchObject({ selected: 2, ready: 2, released: 1 });
      expect(status(rsp)["ready"]).toBe("2/2");
      expect(rsp.results).toContainEqual({
        severity: "Normal",
        reason: "CacheReleased",
        message: "1 cluster(s) released their copy after spec.eviction.ttl (24h) unused; the volume is kept on the cluster, unmanaged: gke-us-east1-h100",
        target: "Composite",
      });
    });

    it("records not delivered: nothing is released, nothing is timed", () => {
      const rsp = call([{ name: "gke-us-east1-h100", phase: "Ready", unusedSince: "2025-01-01T00:00:00.000Z" }], undefined);
      expect(replicaKeys(rsp)).toHaveLength(3);
      expect(clusters(rsp).every((c) => c["released"] === undefined)).toBe(true);
    });

    it("a released cluster stays released while nobody asks, and comes back when a workload waits for it", () => {
      const line = { name: "gke-us-east1-h100", phase: "Pending", released: true, releaseAt: "2025-01-01T00:00:00.000Z", message: "released" };
      const without = { "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() };
      const still = call([line], [], without);
      expect(still.desired.resources["replica-gke-us-east1-h100"]).toBeUndefined();
      expect(clusters(still).find((c) => c["name"] === "gke-us-east1-h100")?.["released"]).toBe(true);
      expect(still.results.map((r) => r.reason)).not.toContain("CacheReleased");
      const back = call([line], [record("gke-us-east1-h100", "Waiting")], without);
      expect(back.desired.resources["replica-gke-us-east1-h100"]).toBeDefined();
      expect(clusters(back).find((c) => c["name"] === "gke-us-east1-h100")).toMatchObject({ phase: "Pending" });
      expect(clusters(back).find((c) => c["name"] === "gke-us-east1-h100")?.["released"]).toBeUndefined();
    });
  });

  it("a replica reporting drift itself is drift", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready({ drift: true, phase: "Failed" }) });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")).toMatchObject({ drift: true });
  });

  it("an immutable source is pinned from the start", () => {
    const xr = modelCache({ ...prod, artifact: { source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: COMMIT } } } });
    const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
    expect(status(rsp)["pin"]).toMatchObject({ resolvedRevision: COMMIT, pinnedFrom: "source" });
    expect(cond(rsp, "ArtifactPinned")).toMatchObject({ status: "True", reason: "PinnedFromSource" });
  });

  it("a pvcClone source naming its manifest digest pins the bytes from the start, and every replica's contract carries it", () => {
    const xr = modelCache({ ...prod, artifact: { source: { pvcClone: { claimName: "golden", manifestDigest: DIGEST } } } });
    const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
    expect(status(rsp)["pin"]).toMatchObject({ resolvedRevision: DIGEST, manifestDigest: DIGEST, pinnedFrom: "source" });
    const contract = Object.values(rsp.desired.resources).find((r) => r.resource["kind"] === "ConfigMap");
    expect(JSON.parse(String(field(contract?.resource, "data", "contract.json")))).toMatchObject({ pin: { resolvedRevision: DIGEST, manifestDigest: DIGEST } });
  });

  it("a new source identity starts a new pin and a new volume; old volumes stay listed until the new one is verified", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready() });
    const next = modelCache({ ...prod, artifact: { source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "v2" } } } }, { status: pinned });
    const rsp = composeFleet(request(next, { clusters: fleet(), observed }), opts);
    expect(status(rsp)["pin"]).toBeUndefined();
    const spec = resolvedSpec(rsp, "replica-gke-us-east1-h100");
    expect(spec["claimName"]).not.toBe(CLAIM);
    expect(spec["pin"]).toBeUndefined();
    expect(spec["previousClaimNames"]).toEqual([CLAIM]);
    // The old revision's Ready report neither pins the new one nor counts as Ready for it.
    expect(clusters(rsp).find((c) => c["name"] === "gke-us-east1-h100")?.["phase"]).toBe("Pending");
  });
});

describe("events on transitions, reconcile after reconcile", () => {
  /** Feed each response's status back as the next call's observed status, as Crossplane does. */
  function reconcile(xr: JsonObject, statuses: Record<string, JsonObject | undefined>, previous: FunctionResponse | undefined): FunctionResponse {
    const observed = observedFor(modelCache(prod), fleet(), statuses);
    const withStatus = previous ? { ...xr, status: status(previous) } : xr;
    return composeFleet(request(withStatus, { clusters: fleet(), observed }), opts);
  }
  const reasons = (rsp: FunctionResponse) => rsp.results.map((r) => r.reason);

  it("announces each change once: replicas created, a cluster Ready, the pin, the fleet Ready, then a failure", () => {
    const xr = modelCache(prod);
    const first = composeFleet(request(xr, { clusters: fleet() }), opts);
    expect(reasons(first)).toEqual(["ReplicaCreated"]);
    const hydrating = { phase: "Hydrating", claimName: CLAIM, bytesDone: 1, bytesTotal: 2 };
    const second = reconcile(xr, { "gke-us-east1-h100": hydrating, "eks-us-east-1-h100": hydrating, "aks-eastus-a100": hydrating }, first);
    expect(reasons(second)).toEqual([]);
    const third = reconcile(xr, { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": hydrating, "aks-eastus-a100": hydrating }, second);
    expect(reasons(third)).toEqual(["ArtifactPinned", "ClusterReady"]);
    const fourth = reconcile(xr, { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": hydrating, "aks-eastus-a100": hydrating }, third);
    expect(reasons(fourth)).toEqual([]);
    const all = { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() };
    const fifth = reconcile(xr, all, fourth);
    expect(reasons(fifth)).toEqual(["ClusterReady", "AllClustersReady"]);
    expect(fifth.results.find((r) => r.reason === "ClusterReady")?.message).toBe("2 clusters verified and became Ready: aks-eastus-a100, eks-us-east-1-h100");
    expect(reasons(reconcile(xr, all, fifth))).toEqual([]);
    const failed = reconcile(xr, { ...all, "aks-eastus-a100": { phase: "Failed", claimName: CLAIM, message: "hydration Job failed 4 times" } }, fifth);
    expect(failed.results.filter((r) => r.severity === "Warning").map((r) => [r.reason, r.message])).toEqual([
      ["ClusterFailed", "1 cluster failed: aks-eastus-a100: hydration Job failed 4 times"],
      ["ClustersNotReady", "the ModelCache is no longer Ready: 2/3 clusters ready; failed: aks-eastus-a100: hydration Job failed 4 times"],
    ]);
  });
});

describe("readiness and TTL", () => {
  it("Ready only when every selected cluster is; replicas Ready only when their phase is; normal TTL then", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(rsp.desired.composite?.ready).toBe("True");
    expect(replicaKeys(rsp).map((k) => rsp.desired.resources[k]?.ready)).toEqual(["True", "True", "True"]);
    expect(cond(rsp, "ClustersReady")).toMatchObject({ status: "True", reason: "AllClustersReady", message: "3/3 clusters ready" });
    expect(status(rsp)["ready"]).toBe("3/3");
    expect(rsp.ttlSeconds).toBe(60);
  });

  it("one cluster still hydrating: not Ready, Hydrating with progress, short TTL", () => {
    const observed = observedFor(modelCache(prod), fleet(), {
      "gke-us-east1-h100": ready(),
      "eks-us-east-1-h100": { phase: "Hydrating", claimName: CLAIM, bytesDone: 45, bytesTotal: 100 },
      "aks-eastus-a100": ready(),
    });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed }), opts);
    expect(rsp.desired.composite?.ready).toBe("False");
    expect(rsp.desired.resources["replica-eks-us-east-1-h100"]?.ready).toBe("False");
    expect(cond(rsp, "ClustersReady")).toMatchObject({ reason: "Hydrating", message: "2/3 clusters ready; in progress: eks-us-east-1-h100 (45%)" });
    expect(rsp.ttlSeconds).toBe(15);
  });
});

describe("retention", () => {
  const relabelled = fleet().map((c) => {
    const meta = c["metadata"] as JsonObject;
    return meta["name"] === "aks-eastus-a100" ? { ...c, metadata: { ...meta, labels: { tier: "staging" } } } : c;
  });

  it("Retain (the default): a cluster that stops matching keeps its replica, selected: false, a Warning, and does not count", () => {
    const observed = observedFor(modelCache(prod), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() });
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: relabelled, observed }), opts);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(observed["replica-aks-eastus-a100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")).toMatchObject({ selected: false, phase: "Ready" });
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "ClusterUnselected" }));
    expect(status(rsp)["ready"]).toBe("2/2");
    expect(rsp.desired.composite?.ready).toBe("True");
  });

  it("Delete: the replica is dropped from the desired state, and a result says so", () => {
    const spec = { ...prod, retention: { whenUnselected: "Delete" } };
    const observed = observedFor(modelCache(spec), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() });
    const rsp = composeFleet(request(modelCache(spec, { status: pinned }), { clusters: relabelled, observed }), opts);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]).toBeUndefined();
    expect(replicaKeys(rsp)).toEqual(["replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Normal", reason: "ReplicaRemoved" }));
  });
});

describe("a replica whose cluster is not in the narrowed answer", () => {
  // Crossplane sends only the clusters the cache's labels match, so a replica's cluster can be missing
  // from the answer for three reasons, and each keeps the promise it had when every cluster was sent:
  // it stopped matching (retention applies), it vanished (kept, reported), or it was not fetched yet (kept).
  const replicasOf = (spec: JsonObject) =>
    observedFor(modelCache(spec), fleet(), { "gke-us-east1-h100": ready(), "eks-us-east-1-h100": ready(), "aks-eastus-a100": ready() });
  const named = (name: string) => fleet().find((c) => (c["metadata"] as JsonObject)["name"] === name) as JsonObject;
  const relabelled = { ...named("aks-eastus-a100"), metadata: { ...(named("aks-eastus-a100")["metadata"] as JsonObject), labels: { tier: "staging" } } };
  const matching = fleet().filter((c) => ["gke-us-east1-h100", "eks-us-east-1-h100"].includes((c["metadata"] as JsonObject)["name"] as string));
  /** The request with the narrowed answer and, when given, the answer by name for aks-eastus-a100. */
  function call(spec: JsonObject, byName: JsonObject[] | undefined, extra: { status?: JsonObject; input?: JsonObject } = {}) {
    const req = request(modelCache(spec, extra.status ? { status: extra.status } : {}), {
      clusters: matching,
      observed: replicasOf(spec),
      ...(extra.input ? { input: extra.input } : {}),
    });
    if (byName !== undefined) req.requiredResources["cluster:aks-eastus-a100"] = byName;
    return composeFleet(req, opts);
  }
  const WITH_BY_NAME = { resources: { clusters: clustersAsked({ tier: "prod" }), "cluster:aks-eastus-a100": byNameAsked("aks-eastus-a100") } };

  it("is asked for by name, and until that answer comes its replica is kept unchanged (a gap is not a decision)", () => {
    const spec = { ...prod, retention: { whenUnselected: "Delete" } };
    const rsp = call(spec, undefined, { status: pinned });
    expect(rsp.requirements).toEqual(WITH_BY_NAME);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(replicasOf(spec)["replica-aks-eastus-a100"]?.resource["spec"]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "ReplicaKept" }));
  });

  it("stopped matching (its labels changed): Retain keeps it, selected: false, and the requirements settle", () => {
    const rsp = call(prod, [relabelled], { status: pinned });
    expect(rsp.requirements).toEqual(WITH_BY_NAME);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(replicasOf(prod)["replica-aks-eastus-a100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")).toMatchObject({ selected: false, phase: "Ready" });
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "ClusterUnselected" }));
    expect(status(rsp)["ready"]).toBe("2/2");
    // The next reconcile's first call (no answer yet) asks for it by name already: two calls, not three.
    const next = composeFleet(request(modelCache(prod, { status: status(rsp) }), { observed: replicasOf(prod) }), opts);
    expect(next.requirements).toEqual(WITH_BY_NAME);
  });

  it("stopped matching: Delete drops its replica, and a result says so", () => {
    const spec = { ...prod, retention: { whenUnselected: "Delete" } };
    const rsp = call(spec, [relabelled], { status: pinned });
    expect(rsp.desired.resources["replica-aks-eastus-a100"]).toBeUndefined();
    expect(replicaKeys(rsp)).toEqual(["replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Normal", reason: "ReplicaRemoved" }));
  });

  it("vanished (Crossplane found no object by that name): its replica is kept whatever the retention, reported", () => {
    const spec = { ...prod, retention: { whenUnselected: "Delete" } };
    const rsp = call(spec, [], { status: pinned });
    expect(rsp.requirements).toEqual(WITH_BY_NAME);
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(replicasOf(spec)["replica-aks-eastus-a100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")?.["message"]).toMatch(
      /is not among the delivered InferenceClusters; its replica is kept unchanged/,
    );
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "ReplicaKept" }));
  });

  it("matches again (the narrowed answer missed it by a moment): decided like any delivered cluster", () => {
    const rsp = call(prod, [named("aks-eastus-a100")], { status: pinned });
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")).toMatchObject({ phase: "Ready" });
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")?.["selected"]).toBeUndefined();
    expect(status(rsp)["ready"]).toBe("3/3");
  });

  it("outside the Input's labels (the platform took it out of scope): as if not delivered, kept, never selected by the cache's selector alone", () => {
    const input = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", clusters: { matchLabels: { tier: "prod" } } };
    const spec = { clusterSelector: {}, retention: { whenUnselected: "Delete" } };
    const rsp = call(spec, [relabelled], { status: pinned, input });
    expect(rsp.desired.resources["replica-aks-eastus-a100"]?.resource["spec"]).toEqual(replicasOf(spec)["replica-aks-eastus-a100"]?.resource["spec"]);
    expect(clusters(rsp).find((c) => c["name"] === "aks-eastus-a100")?.["message"]).toMatch(/is not among the delivered InferenceClusters/);
  });

  it("a cluster in the narrowed answer is never asked for by name", () => {
    const rsp = composeFleet(request(modelCache(prod, { status: pinned }), { clusters: fleet(), observed: replicasOf(prod) }), opts);
    expect(rsp.requirements).toEqual(REQUIREMENTS);
  });
});

describe("the replica contract", () => {
  it("carries the refetch token, the hydrator image from the Input, and never a credential", () => {
    const xr = modelCache(prod, { annotations: { "modelcache.dev/refetch": "2024-06-01" } });
    const input = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", hydratorImage: "registry.example/hydrator:v9" };
    const rsp = composeFleet(request(xr, { clusters: fleet(), input }), opts);
    const spec = resolvedSpec(rsp, "replica-gke-us-east1-h100");
    expect(spec["refetch"]).toBe("2024-06-01");
    expect(spec["hydratorImage"]).toBe("registry.example/hydrator:v9");
    expect(JSON.stringify(spec)).toContain('"tokenSecretRef":{"name":"hf-token"}');
    expect(JSON.stringify(rsp)).not.toMatch(/s3cr3t|password|token":"/);
  });

  it("ExistingPVC: the claim is the user's", () => {
    const xr = modelCache({ ...prod, storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models" } } });
    const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
    expect(resolvedSpec(rsp, "replica-gke-us-east1-h100")["claimName"]).toBe("team-models");
  });
});
