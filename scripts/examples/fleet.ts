// Writes examples/fleet-*/ (xr.yaml, required.yaml, observed.yaml,
// functions.yaml, composition.yaml -> the real Composition) from the same
// builders the tests use. Observed replicas are what this function composed
// for the scenario, plus the status their clusters report.
// Run: node scripts/examples/fleet.ts && npm run render:update -- <names>
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { compositionWithInput } from "./composition.ts";
import type { JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { composeFleet } from "../../functions/composition/fleet/compose.ts";
import { COMMIT, DIGEST, fleet, GPUS, inferenceCluster, modelCache, OTHER_DIGEST, request } from "../../test/support/fleet-builders.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";

const H100_CEL = `cluster.devices.exists(device, device.driver == "gpu.nvidia.com" &&
  device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`;

interface Scenario {
  name: string;
  comment: string;
  xr: JsonObject;
  clusters: JsonObject[];
  /** Status each cluster's replica reports, keyed by cluster; the replicas are composed from `composedFrom`. */
  observed?: Record<string, JsonObject>;
  /** The XR (and clusters) the observed replicas were composed for, if not this one. */
  composedFrom?: { xr: JsonObject; clusters: JsonObject[] };
  /**
   * What the replicas reported on the previous reconcile: the XR then carries the status that
   * reconcile wrote, as it does in a cluster, so events show only what changed since.
   */
  previous?: Record<string, JsonObject>;
  /** The Input in the scenario's Composition (a platform's tenancy policy), when not the shipped one. */
  input?: JsonObject;
  /** Fields the previous reconcile wrote on a cluster's status line besides what its replica reported (eviction's memory). */
  previousLines?: Record<string, JsonObject>;
  /** The serving step's records of use (serving/leases.ts), delivered beside the clusters. */
  uses?: JsonObject[];
}

const pinnedStatus = { pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST, pinnedFrom: "gke-us-east1-h100", identity: "" } };
const ready = (bytes = 16_384_000_000) => ({
  phase: "Ready",
  bytesDone: bytes,
  bytesTotal: bytes,
  resolvedRevision: COMMIT,
  manifestDigest: DIGEST,
  namespace: "model-cache",
  mountPath: "/models/qwen3-8b",
  attempts: 1,
});
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const inTeamA = (spec: JsonObject): JsonObject => ({ ...modelCache(spec), metadata: { name: "qwen3-8b", namespace: "team-a" } });
const reachIntoTeamB: JsonObject = {
  artifact: {
    kind: "Weights",
    source: {
      huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", tokenSecretRef: { name: "team-b-hf-token" }, endpoint: "https://collector.attacker.example" },
    },
  },
  storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-b-weights", namespace: "team-b", hydrate: true } },
  hydration: {
    tolerations: [{ operator: "Exists" }],
    nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    resources: { limits: { "nvidia.com/gpu": "1" } },
  },
};
/** A platform engineer's tenancy policy, every knob written (docs/security.md). */
const TENANCY_POLICY: JsonObject = {
  apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
  kind: "Input",
  clusters: { apiVersion: "modelplane.ai/v1alpha1", kind: "InferenceCluster" },
  clusterNamespace: "model-cache",
  tenancy: {
    clusterNamespaces: { prefix: "tenant-", map: { "ml-platform": "models-shared" }, labels: { "secrets.example.com/sync": "model-tokens" } },
    credentialDestinations: {
      huggingFace: ["https://huggingface.co", "https://hf-mirror.internal.example"],
      s3: ["https://s3.*.amazonaws.com", "https://minio.storage.svc:9000"],
      oci: ["https://registry.example.com"],
    },
    sources: {
      allowedOrigins: ["https://huggingface.co", "https://hf-mirror.internal.example", "https://minio.storage.svc:9000", "https://registry.example.com"],
      refusedAddresses: ["LinkLocal", "Metadata"],
    },
    existingPVC: {
      ownNamespace: "ReadOnly",
      grants: [{ controlPlaneNamespaces: ["team-a", "team-b"], namespace: "models-shared", claimNames: ["llama-3-70b"], access: "ReadOnly" }],
    },
    pvcClone: {
      ownNamespace: "Allow",
      grants: [{ controlPlaneNamespaces: ["team-a"], namespace: "models-golden", claimNames: ["qwen3-8b-golden"] }],
    },
    customBackends: [{ name: "reference", apiVersion: "volumes.example.com/v1alpha1", kind: "ModelVolume", controlPlaneNamespaces: ["team-a"] }],
    storageClassNames: ["filestore-rwx", "efs-sc", "azurefile-csi-premium", "cephfs"],
    hydration: {
      onViolation: "Clamp",
      allowedTolerations: [{ key: "example.com/hydration", operator: "Equal", value: "true", effect: "NoSchedule" }],
      allowedNodeSelectorKeys: ["topology.kubernetes.io/zone"],
      maxResources: { cpu: "4", memory: "8Gi", "ephemeral-storage": "4Gi" },
      nodeSelector: { "example.com/pool": "hydration" },
      tolerations: [{ key: "example.com/hydration", operator: "Equal", value: "true", effect: "NoSchedule" }],
    },
  },
};

/** The platform allows one substrate: the reference one (examples/custom-backend-reference/). */
const CUSTOM_BACKENDS: JsonObject = {
  apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
  kind: "Input",
  tenancy: { customBackends: [{ name: "reference", apiVersion: "volumes.example.com/v1alpha1", kind: "ModelVolume" }] },
};

function withClaim(status: JsonObject, claim: string): JsonObject {
  return { ...status, claimName: claim };
}

/** A ModelCache of a Cloud Storage prefix, its key by Secret reference (the default endpoint and allow-list). */
const gcsCache = modelCache({
  ...prod,
  artifact: { kind: "Weights", source: { gcs: { uri: "gs://ml-models/qwen3-8b/", credentialsSecretRef: { name: "gcs-reader" } } } },
});
/** What a gs:// prefix resolves to (functions/hydrator/sources/gcs.ts). */
const GCS_GENERATIONS = `generations:1796290569003451:sha256:${"4".repeat(64)}`;

function scenarios(claim: string, identity: string, gcsClaim: string): Scenario[] {
  const pin = { pin: { ...pinnedStatus.pin, identity } };
  const relabelled = fleet().map((c) => {
    const meta = c["metadata"] as JsonObject;
    return meta["name"] === "aks-eastus-a100" ? { ...c, metadata: { ...meta, labels: { region: "eastus", tier: "staging" } } } : c;
  });
  return [
    {
      name: "fleet-single-cluster",
      comment: "One cluster matches the labels: one ModelCacheReplica, Pending until its cluster reports.",
      xr: modelCache({ clusterSelector: { matchLabels: { region: "us-east1" } } }),
      clusters: fleet(),
    },
    {
      name: "fleet-cel-h100",
      comment:
        "CEL over the clusters' DRA pools selects the two clusters with H100 GPUs out of four;\n# explain-selection lists why the other two were not selected.",
      xr: modelCache({ clusterSelector: { cel: H100_CEL } }, { annotations: { "modelcache.dev/explain-selection": "true" } }),
      clusters: fleet(),
    },
    {
      name: "fleet-no-match",
      comment: "No cluster matches: nothing is composed, ClustersSelected is False (NoClusterMatches) and\n# status.notSelected says why for each cluster.",
      xr: modelCache(
        { clusterSelector: { matchLabels: { tier: "prod" }, matchExpressions: [{ key: "region", operator: "In", values: ["europe-west4"] }] } },
        { annotations: { "modelcache.dev/explain-selection": "true" } },
      ),
      clusters: fleet(),
    },
    {
      name: "fleet-bad-cel",
      comment: "A malformed CEL expression is a Fatal result quoting the position; nothing is composed or removed.",
      xr: modelCache({ clusterSelector: { cel: `cluster.devices.exists(device, device.driver == )` } }),
      clusters: fleet(),
    },
    {
      name: "fleet-blocked",
      comment:
        "Two matching clusters cannot hold the cache: one has no provider config, one has no RWX\n# storage class. They are reported Blocked with the reason, not silently dropped, and not fanned out.",
      xr: modelCache({ clusterSelector: { matchLabels: { tier: "dev" } } }),
      clusters: [
        ...fleet(),
        inferenceCluster({
          name: "lab-a100",
          labels: { region: "dc1", tier: "dev" },
          cloud: "Existing",
          providerConfig: null,
          pools: [{ gpu: GPUS.A100, nodes: 1 }],
        }),
        inferenceCluster({
          name: "onprem-l40s-b",
          labels: { region: "dc2", tier: "dev" },
          cloud: "Existing",
          storageClassName: null,
          pools: [{ gpu: GPUS.L40S, nodes: 1 }],
        }),
      ],
    },
    {
      name: "fleet-immutable-source",
      comment: "A Hugging Face revision that is a commit is pinned from the start (pinnedFrom: source).",
      xr: modelCache({ ...prod, artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: COMMIT } } } }),
      clusters: fleet(),
    },
    {
      name: "fleet-pinning-in-progress",
      comment:
        "The first cluster verified main at a commit and manifest: that fixes status.pin and every\n# replica now gets spec.pin. The others are hydrating and pending.",
      xr: modelCache(prod),
      clusters: fleet(),
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(
          { phase: "Hydrating", bytesDone: 7_372_800_000, bytesTotal: 16_384_000_000, bytesPerSecond: 412_000_000, etaSeconds: 22, attempts: 1 },
          claim,
        ),
      },
    },
    {
      name: "fleet-pinning-gcs",
      comment:
        "A Cloud Storage prefix: the first cluster verified it at a set of object generations, which\n# fixes status.pin (generations:<newest>:sha256:<digest>); every replica gets it, so the clusters still\n# hydrating read exactly those generations (--gcs-generations) whatever the prefix holds now.",
      xr: gcsCache,
      clusters: fleet(),
      observed: {
        "gke-us-east1-h100": withClaim({ ...ready(), resolvedRevision: GCS_GENERATIONS }, gcsClaim),
        "eks-us-east-1-h100": withClaim(
          { phase: "Hydrating", bytesDone: 7_372_800_000, bytesTotal: 16_384_000_000, bytesPerSecond: 412_000_000, etaSeconds: 22, attempts: 1 },
          gcsClaim,
        ),
      },
    },
    {
      name: "fleet-pinned",
      comment:
        "The pin persists in the ModelCache's status; since the previous reconcile the last cluster\n# (aks-eastus-a100) verified exactly it, so every selected cluster is Ready: two Normal events say so.",
      xr: modelCache(prod, { status: pin }),
      clusters: fleet(),
      previous: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim({ phase: "Verifying", bytesDone: 9_830_400_000, bytesTotal: 16_384_000_000, attempts: 1 }, claim),
      },
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
    },
    {
      name: "fleet-drift",
      comment:
        "The cache was Ready; now one cluster reports a manifest other than the pinned one: drift,\n# reported, not Ready, and a Warning that the cache is no longer Ready.",
      xr: modelCache(prod, { status: pin }),
      clusters: fleet(),
      previous: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim({ ...ready(), manifestDigest: OTHER_DIGEST }, claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
    },
    {
      name: "fleet-unselected-retained",
      comment:
        "aks-eastus-a100 was relabelled and no longer matches: with spec.retention.whenUnselected Retain\n# (the default) its replica and data stay, reported with selected: false and a Warning.",
      xr: modelCache(prod, { status: pin }),
      clusters: relabelled,
      composedFrom: { xr: modelCache(prod, { status: pin }), clusters: fleet() },
      previous: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
    },
    {
      name: "fleet-unselected-delete",
      comment:
        "The same relabelled cluster with spec.retention.whenUnselected Delete: its replica is dropped\n# from the desired state (and so deleted), and a result says so.",
      xr: modelCache({ ...prod, retention: { whenUnselected: "Delete" } }, { status: pin }),
      clusters: relabelled,
      composedFrom: { xr: modelCache({ ...prod, retention: { whenUnselected: "Delete" } }, { status: pin }), clusters: fleet() },
      previous: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
    },
    {
      name: "fleet-eviction",
      comment:
        "spec.eviction.ttl 24h: workloads mount the cache on two clusters (the serving step's records, delivered by label); nobody has used the Ready copy on gke-us-east1-h100 since 2024-01-01, so it is released: its replica goes, the retention policy (Retain) leaves its volume on the cluster, and its status line says when and how to get it back.",
      xr: modelCache({ ...prod, eviction: { ttl: "24h" } }, { status: pin }),
      clusters: fleet(),
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
      previous: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(ready(), claim),
        "aks-eastus-a100": withClaim(ready(), claim),
      },
      previousLines: { "gke-us-east1-h100": { unusedSince: "2024-01-01T00:00:00.000Z", releaseAt: "2024-01-02T00:00:00.000Z" } },
      uses: [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "qwen3-8b-mount-eks",
            namespace: "serving",
            labels: {
              "modelcache.dev/cache": "qwen3-8b",
              "modelcache.dev/cache-namespace": "ml-team",
              "modelcache.dev/cluster": "eks-us-east-1-h100",
              "modelcache.dev/use": "Mounted",
              "modelcache.dev/claim": claim,
            },
          },
          data: {
            cache: "ml-team/qwen3-8b",
            cluster: "eks-us-east-1-h100",
            use: "Mounted",
            claim: `mc-ml-team/${claim}`,
            workload: "Deployment serving/vllm",
            consumer: "ServedModel serving/qwen3-8b",
          },
        },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "qwen3-8b-mount-aks",
            namespace: "serving",
            labels: {
              "modelcache.dev/cache": "qwen3-8b",
              "modelcache.dev/cache-namespace": "ml-team",
              "modelcache.dev/cluster": "aks-eastus-a100",
              "modelcache.dev/use": "Mounted",
              "modelcache.dev/claim": claim,
            },
          },
          data: {
            cache: "ml-team/qwen3-8b",
            cluster: "aks-eastus-a100",
            use: "Mounted",
            claim: `mc-ml-team/${claim}`,
            workload: "Deployment serving/vllm",
            consumer: "ServedModel serving/qwen3-8b",
          },
        },
      ],
    },
    azurePinnedDrift(),
    {
      name: "fleet-tenancy-refused",
      comment:
        "A cache in control-plane namespace team-a reaches into team-b (its claim, writable, and its\n# token), sends the token to a host of its own, and asks for every taint, the control-plane nodes and\n# a GPU. The platform's tenancy policy (here the defaults) refuses it with a Fatal naming each field and\n# rule; the replicas and contract it composed before are kept, nothing new is composed.",
      xr: inTeamA({ ...prod, ...reachIntoTeamB }),
      clusters: fleet(),
      composedFrom: { xr: inTeamA(prod), clusters: fleet() },
      observed: { "gke-us-east1-h100": { phase: "Hydrating", attempts: 1 } },
    },
    {
      name: "fleet-tenancy-policy",
      comment:
        "The platform's tenancy policy in the Composition's Input (docs/security.md): its own namespace\n# names, where credentials may go, a granted claim, the storage classes, and a hydration ceiling that\n# clamps (a Warning says what) and puts hydration pods on its own nodes.",
      xr: inTeamA({ ...prod, hydration: { tolerations: [{ operator: "Exists" }], resources: { limits: { cpu: "16", memory: "4Gi" } } } }),
      clusters: fleet(),
      input: TENANCY_POLICY,
    },
    {
      name: "fleet-pvc-clone",
      comment:
        "A cache made from a volume every cluster already holds (a pvcClone source): the source's manifest\n# digest is named, so it is pinned from the start and every replica verifies exactly it. Each cluster\n# clones the claim where Kubernetes can, else copies it (examples/replica-pvc-clone-*).",
      xr: modelCache({
        ...prod,
        artifact: { kind: "Weights", source: { pvcClone: { claimName: "qwen3-8b-golden", manifestDigest: DIGEST } } },
      }),
      clusters: fleet(),
    },
    {
      name: "fleet-custom-backend",
      comment:
        "A cache on a third-party substrate (storage.backend Custom, substrate reference, which the\n# platform's Input maps to volumes.example.com/v1alpha1 ModelVolume). One cluster's substrate serves\n# the pinned digest; another's says Ready but serves other bytes: drift, reported, never Ready.",
      xr: modelCache({ ...prod, storage: { backend: "Custom", custom: { substrate: "reference", size: "40Gi" } } }, { status: pin }),
      clusters: fleet(),
      input: CUSTOM_BACKENDS,
      observed: {
        "gke-us-east1-h100": withClaim(ready(), claim),
        "eks-us-east-1-h100": withClaim(
          {
            ...ready(),
            phase: "Failed",
            drift: true,
            manifestDigest: OTHER_DIGEST,
            message: `reference (ModelVolume) serves manifest ${OTHER_DIGEST} but the cache is pinned to ${DIGEST}`,
          },
          claim,
        ),
      },
    },
    {
      name: "fleet-custom-refused",
      comment:
        "A Custom backend naming a substrate the platform does not list (the shipped Input lists none): a\n# Fatal naming spec.storage.custom.substrate and the knob; a tenant can never make the function compose\n# a kind of its choosing.",
      xr: modelCache({ ...prod, storage: { backend: "Custom", custom: { substrate: "anything" } } }),
      clusters: fleet(),
    },
  ];
}

/**
 * An Azure Blob prefix behind a private endpoint the platform lists for Azure credentials: the first cluster pinned
 * the blobs' ETags; a blob was overwritten since, so the second resolved other ETags and refused the bytes (what
 * test/contract/azure-pinning.test.ts runs for real): a reported drift, the pin and the first cluster's bytes kept.
 */
function azurePinnedDrift(): Scenario {
  const endpoint = "https://mlmodels.privatelink.blob.core.windows.net";
  const spec = {
    ...prod,
    artifact: { kind: "Weights", source: { azure: { uri: "azure://mlmodels/models/qwen3-8b/", endpoint, credentialsSecretRef: { name: "azure-sas" } } } },
  };
  const input: JsonObject = {
    apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
    kind: "Input",
    tenancy: { credentialDestinations: { azure: ["https://*.privatelink.blob.core.windows.net"] } },
  };
  const first = composeFleet(request(modelCache(spec), { clusters: fleet(), input }), { defaultHydratorImage: IMAGE });
  const azureClaim = String(((first.desired.composite?.resource["status"] ?? {}) as JsonObject)["claimName"]);
  const revision = `etags:sha256:${"3e".repeat(32)}`;
  const other = `etags:sha256:${"9a".repeat(32)}`;
  const verified = { ...ready(), resolvedRevision: revision, claimName: azureClaim };
  const pin = { resolvedRevision: revision, manifestDigest: DIGEST, pinnedFrom: "gke-us-east1-h100", identity: identityHash(Artifact.parse(spec.artifact)) };
  return {
    name: "fleet-source-azure-drift",
    comment:
      "An Azure Blob prefix through a private endpoint the platform lists for Azure credentials. gke-us-east1-h100\n# verified the prefix at its blobs' ETags and pinned it; a blob was overwritten since, so eks-us-east-1-h100\n# resolved other ETags and its Job refused those bytes against the pinned manifest: a reported drift, not Ready.\n# The pin stays, and so do the first cluster's bytes; aks-eastus-a100 is still hydrating.",
    xr: modelCache(spec, { status: { pin } }),
    clusters: fleet(),
    input,
    previous: { "gke-us-east1-h100": verified },
    observed: {
      "gke-us-east1-h100": verified,
      "eks-us-east-1-h100": {
        phase: "Failed",
        claimName: azureClaim,
        resolvedRevision: other,
        bytesDone: 16_384_000_000,
        bytesTotal: 16_384_000_000,
        attempts: 1,
        // The hydrator's own words (hydrate.ts) when the pinned manifest does not match.
        message: `azure://mlmodels/models/qwen3-8b/ (${other}) gives artifact ${OTHER_DIGEST}, not the expected ${DIGEST}: the source changed since it was pinned`,
      },
      "aks-eastus-a100": { phase: "Hydrating", claimName: azureClaim, bytesDone: 4_096_000_000, bytesTotal: 16_384_000_000, attempts: 1 },
    },
  };
}

/** The XR as the previous reconcile left it: its status is what that reconcile wrote. */
function withPreviousStatus(s: Scenario): JsonObject {
  if (!s.previous) return s.xr;
  const from = s.composedFrom ?? { xr: s.xr, clusters: s.clusters };
  const observed: Record<string, ResourceState> = {};
  for (const r of observedReplicas({ ...s, observed: s.previous }))
    observed[String(((r["metadata"] as JsonObject)["annotations"] as JsonObject)["crossplane.io/composition-resource-name"])] = {
      resource: r,
      connectionDetails: {},
      ready: "Unspecified",
    };
  const rsp = composeFleet(request(from.xr, { clusters: from.clusters, observed, ...(s.input ? { input: s.input } : {}) }), { defaultHydratorImage: IMAGE });
  const status = (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const lines = Array.isArray(status["clusters"]) ? (status["clusters"] as JsonObject[]) : [];
  const clusters = lines.map((l) => ({ ...l, ...(s.previousLines?.[String(l["name"])] ?? {}) }));
  return { ...s.xr, status: { ...status, clusters } };
}

/** The replicas as Crossplane would observe them: composed by us, annotated, with their cluster's status. */
function observedReplicas(s: Scenario): JsonObject[] {
  if (!s.observed) return [];
  const from = s.composedFrom ?? { xr: s.xr, clusters: s.clusters };
  const rsp = composeFleet(request(from.xr, { clusters: from.clusters, ...(s.input ? { input: s.input } : {}) }), { defaultHydratorImage: IMAGE });
  const out: JsonObject[] = [];
  for (const [key, r] of Object.entries(rsp.desired.resources).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const meta0 = r.resource["metadata"] as JsonObject;
    // The contract's ConfigMap, observed as composed: what the replicas read and the fleet keeps for older hashes.
    if (r.resource["kind"] === "ConfigMap") {
      out.push({ ...r.resource, metadata: { ...meta0, annotations: { "crossplane.io/composition-resource-name": key } } });
      continue;
    }
    const spec = r.resource["spec"] as JsonObject;
    const cluster = (spec["cluster"] as JsonObject)["name"] as string;
    const status = s.observed[cluster];
    const meta = r.resource["metadata"] as JsonObject;
    out.push({ ...r.resource, metadata: { ...meta, annotations: { "crossplane.io/composition-resource-name": key } }, ...(status ? { status } : {}) });
  }
  return out;
}

function yamlStream(docs: JsonObject[]): string {
  return docs.map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("");
}

const FUNCTIONS = `apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-model-cache
  annotations:
    # Dial a function already running at localhost:9443 with --insecure.
    render.crossplane.io/runtime: Development
spec:
  package: ${IMAGE}
`;

// The claim name and identity the default source gets; computed, never hand-copied.
const probe = composeFleet(request(modelCache(prod), { clusters: fleet() }), { defaultHydratorImage: IMAGE });
const probeStatus = (probe.desired.composite?.resource["status"] ?? {}) as JsonObject;
const claim = String(probeStatus["claimName"]);
const { identityHash } = await import("../../functions/composition/fleet/identity.ts");
const { Artifact } = await import("../../functions/api/artifact.ts");
const identity = identityHash(Artifact.parse((modelCache(prod)["spec"] as JsonObject)["artifact"]));

const gcsProbe = composeFleet(request(gcsCache, { clusters: fleet() }), { defaultHydratorImage: IMAGE });
const gcsClaim = String(((gcsProbe.desired.composite?.resource["status"] ?? {}) as JsonObject)["claimName"]);

for (const s of scenarios(claim, identity, gcsClaim)) {
  const dir = join(ROOT, "examples", s.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "xr.yaml"), `# ${s.comment}\n${stringify(withPreviousStatus(s), { lineWidth: 0 })}`);
  const uses =
    s.uses !== undefined ? `# The serving step's records of who uses the cache where (serving/leases.ts), delivered by label.\n${yamlStream(s.uses)}` : "";
  writeFileSync(join(dir, "required.yaml"), `# The fleet's InferenceClusters, delivered as required resources.\n${yamlStream(s.clusters)}${uses}`);
  const observed = observedReplicas(s);
  rmSync(join(dir, "observed.yaml"), { force: true });
  if (observed.length)
    writeFileSync(
      join(dir, "observed.yaml"),
      `# The replicas and contract ConfigMap composed earlier, with the status their clusters report.\n${yamlStream(observed)}`,
    );
  writeFileSync(join(dir, "functions.yaml"), FUNCTIONS);
  rmSync(join(dir, "composition.yaml"), { force: true });
  // The shipped Composition, or it with the Input a platform engineer would write for this scenario.
  if (s.input === undefined) symlinkSync("../../apis/modelcaches/composition.yaml", join(dir, "composition.yaml"));
  else writeFileSync(join(dir, "composition.yaml"), compositionWithInput(ROOT, "modelcaches", s.input));
  process.stdout.write(`wrote examples/${s.name}\n`);
}
