// The cluster-level scenarios: each is a ModelCacheReplica and what its
// cluster shows. The unit tests assert each scenario's phase; scripts/examples/replica.ts
// writes each as examples/replica-<name>/ for `crossplane render`.
import { field, isObject } from "../../functions/common/json.ts";
import type { FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../functions/sdk/types.ts";
import { CONTRACT_REQUIREMENT } from "../../functions/composition/replica/contract.ts";
import { MOUNTS_REQUIREMENT } from "../../functions/composition/replica/mounts.ts";
import { CONTRACT_DATA_KEY } from "../../functions/composition/contract-configmap.ts";
import type { ReplicaPhase } from "../../functions/api/modelcache.ts";
import type { ObservedAs } from "./replica-builders.ts";
import { baseXr, compactForm, compose, observedObject, contractMap, reportData, tenancyInput } from "./replica-builders.ts";
import { storageScenarios } from "./replica-scenarios-storage.ts";

export interface Scenario {
  name: string;
  why: string;
  xr: JsonObject;
  observed: Record<string, ResourceState>;
  /** Required resources Crossplane delivers (the contract ConfigMap of a compact replica). */
  required?: JsonObject[];
  phase: ReplicaPhase | "Fatal";
  /** The function's Input in the scenario's Composition (the platform's tenancy policy), when not the default. */
  input?: JsonObject;
  /** The tenancy policy refuses it: nothing new is composed, and messages name where its spec came from. */
  refused?: true;
  /** The serving step's records of who mounts this cache on the cluster (serving/leases.ts); none when absent. */
  mounts?: JsonObject[];
}

/** Compose the scenario as Crossplane would: with its required resources delivered. */
export function composeScenario(s: Scenario, now?: number): FunctionResponse {
  // The serving step's records of who mounts this cache on the cluster: none, unless the scenario says.
  return compose(s.xr, s.observed, now, { ...(s.required ? { [CONTRACT_REQUIREMENT]: s.required } : {}), [MOUNTS_REQUIREMENT]: s.mounts ?? [] }, s.input);
}

/** The scenario's spec in full: a compact replica's fields over the contract its ConfigMap delivers. */
export function fullSpec(s: Scenario): JsonObject {
  const spec = isObject(s.xr["spec"]) ? s.xr["spec"] : {};
  const raw = field(s.required?.[0], "data", CONTRACT_DATA_KEY);
  const contract = typeof raw === "string" ? (JSON.parse(raw) as JsonValue) : undefined;
  return isObject(contract) ? { ...contract, ...spec } : spec;
}

type Observer = (key: string, kind: string) => ObservedAs | "absent" | undefined;

/** Observe everything the first pass composed, as `how` says (default: exists and Ready). */
function cluster(
  xr: JsonObject,
  how: Observer = () => undefined,
  extra: Record<string, ResourceState> = {},
  input?: JsonObject,
): Record<string, ResourceState> {
  const first = compose(xr, extra, undefined, {}, input);
  const out: Record<string, ResourceState> = { ...extra };
  for (const [key, state] of Object.entries(first.desired.resources)) {
    const kind = String(field(state.resource, "spec", "forProvider", "manifest", "kind") ?? state.resource["kind"]);
    const as = how(key, kind);
    if (as === "absent") continue;
    out[key] = observedObject(key, state.resource, as ?? {});
  }
  return out;
}

/** The same observed Objects as if composed in namespace `ns` (the Namespace Object named it). */
/**
 * What an earlier version composed in namespace `ns`: every mention of the
 * namespace the fixtures were made in (metadata, the Job's --report-configmap,
 * the RoleBinding's subject) names `ns` instead, as those objects would.
 */
function inNamespace(observed: Record<string, ResourceState>, ns: string): Record<string, ResourceState> {
  const out: Record<string, ResourceState> = {};
  for (const [key, state] of Object.entries(observed)) {
    const from = [
      field(state.resource, "spec", "forProvider", "manifest", "metadata", "namespace"),
      field(state.resource, "spec", "forProvider", "manifest", "metadata", "name"),
    ].find((v, i) => typeof v === "string" && (i === 0 || field(state.resource, "spec", "forProvider", "manifest", "kind") === "Namespace"));
    out[key] =
      typeof from === "string"
        ? (JSON.parse(JSON.stringify(state).split(`"${from}"`).join(`"${ns}"`).split(`"${from}/`).join(`"${ns}/`)) as ResourceState)
        : state;
  }
  return out;
}

const bound: ObservedAs = { status: { phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "40Gi" } } };
const running: ObservedAs = { status: { active: 1, startTime: "2024-01-01T00:01:00Z" } };
const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
const OTHER_DIGEST = "sha256:0000000000000000000000000000000000000000000000000000000000000bad";
const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";

const report = (phase: string, more: JsonObject = {}): ObservedAs => ({
  extra: reportData({
    phase,
    source: "hf://Qwen/Qwen3-8B@main",
    bytesDone: 0,
    filesDone: 0,
    bytesPerSecond: 0,
    startedAt: "2024-01-01T00:01:00Z",
    updatedAt: "2024-01-01T00:05:00Z",
    ...more,
  }),
});
const hydrating = report("Hydrating", {
  resolvedRevision: COMMIT,
  bytesDone: 8589934592,
  bytesTotal: 16389206016,
  filesDone: 3,
  filesTotal: 7,
  bytesPerSecond: 412316860,
  etaSeconds: 19,
});
const verifying = report("Verifying", {
  resolvedRevision: COMMIT,
  bytesDone: 16389206016,
  bytesTotal: 16389206016,
  filesDone: 7,
  filesTotal: 7,
  bytesPerSecond: 0,
});
const ready = (digest = DIGEST) =>
  report("Ready", {
    resolvedRevision: COMMIT,
    manifestDigest: digest,
    bytesDone: 16389206016,
    bytesTotal: 16389206016,
    filesDone: 7,
    filesTotal: 7,
    bytesPerSecond: 0,
  });
const failedJob = (message: string): ObservedAs => ({
  status: { failed: 5, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message, lastTransitionTime: "2024-01-01T00:20:00Z" }] },
});

const gke = {
  name: "prod-west",
  providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-west" },
  cloud: "GKE",
  storageClassName: "filestore-rwx",
  csiDrivers: ["SharedFilesystem"],
};
const aks = {
  name: "prod-eu",
  providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-eu" },
  cloud: "AKS",
  storageClassName: "azurefile-csi",
  csiDrivers: ["SharedFilesystem", "BlockDevice"],
};
const existing = {
  name: "lab-1",
  providerConfigRef: { kind: "ClusterProviderConfig", name: "lab-1" },
  cloud: "Existing",
  storageClassName: "nfs-client",
  csiDrivers: ["SharedFilesystem"],
};
const status1 = { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating" };

function onKind(map: Record<string, ObservedAs | "absent">): Observer {
  return (key, kind) => map[key.startsWith("report-") ? "report" : key.startsWith("job-") ? "job" : key.startsWith("volume-") ? "volume" : kind] ?? map[kind];
}

export function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const add = (s: Scenario) => list.push(s);

  add({
    name: "first-pass",
    why: "First pass on an EKS cluster: nothing observed yet. Everything is composed, the Job starts.",
    xr: baseXr(),
    observed: {},
    phase: "Pending",
  });

  {
    const xr = baseXr({}, status1);
    add({
      name: "hydrating",
      why: "The Job runs and the hydrator reports progress: bytes, throughput, ETA reach the status.",
      xr,
      observed: cluster(xr, onKind({ job: running, report: hydrating, volume: bound })),
      phase: "Hydrating",
    });
  }
  {
    const xr = baseXr({}, { ...status1, phase: "Hydrating" });
    add({
      name: "verifying",
      why: "Every byte is down; the hydrator checks the digests before publishing.",
      xr,
      observed: cluster(xr, onKind({ job: running, report: verifying, volume: bound })),
      phase: "Verifying",
    });
  }
  {
    const xr = baseXr({ cluster: gke, pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } }, { ...status1, phase: "Verifying" });
    add({
      name: "ready-gke",
      why: "GKE with the Filestore CSI driver present: the claim is Bound and the report is Ready with the pinned digest. The finished Job is dropped; its report stays as the record.",
      xr,
      observed: cluster(xr, onKind({ job: { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }, report: ready(), volume: bound })),
      phase: "Ready",
    });
  }
  {
    const xr = baseXr({ pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } }, { ...status1, phase: "Verifying" });
    add({
      name: "drift",
      why: "The report is Ready but for other bytes than the pinned manifest: reported as drift, not Ready, and retried with the pin.",
      xr,
      observed: cluster(
        xr,
        onKind({ job: { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }, report: ready(OTHER_DIGEST), volume: bound }),
      ),
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({}, { ...status1, phase: "Hydrating" });
    add({
      name: "failed-retry",
      why: "Attempt 1 failed long ago (its backoff is over): the reason is kept in lastError and attempt 2 starts with a new Job.",
      xr,
      observed: cluster(
        xr,
        onKind({
          job: failedJob("Job has reached the specified backoff limit"),
          report: report("Failed", {
            message: "GET https://huggingface.co/api/models/Qwen/Qwen3-8B/revision/main: 401 Unauthorized (is Secret hf-token's token valid?)",
          }),
          volume: bound,
        }),
      ),
      phase: "Pending",
    });
  }
  {
    const xr = baseXr(
      {},
      { attempts: 6, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating", lastError: "model-00002-of-00004.safetensors: sha256 mismatch" },
    );
    add({
      name: "failed",
      why: "The sixth and last attempt failed: the replica is Failed with the reason until a new refetch value asks again.",
      xr,
      observed: cluster(
        xr,
        onKind({
          job: failedJob("Job has reached the specified backoff limit"),
          report: report("Failed", { message: "model-00002-of-00004.safetensors: sha256 mismatch (expected 3a7f..., got 91c2...)" }),
          volume: bound,
        }),
      ),
      phase: "Failed",
    });
  }
  {
    const xr = baseXr({ cluster: gke });
    add({
      name: "blocked-gke-filestore",
      why: "GKE without the Filestore CSI driver: there is no separate resource to compose, so the replica is Blocked saying exactly what to enable.",
      xr,
      observed: cluster(xr, onKind({ CSIDriver: { missing: true }, job: "absent", report: "absent" })),
      phase: "Blocked",
    });
  }
  {
    const xr = baseXr({ cluster: { ...aks, storageClassName: "premium-files" } });
    add({
      name: "blocked-storage-class",
      why: "AKS: the storage class the volume needs does not exist on the cluster.",
      xr,
      observed: cluster(xr, onKind({ StorageClass: { missing: true }, job: "absent", report: "absent" })),
      phase: "Blocked",
    });
  }
  {
    const xr = baseXr({ cluster: { ...existing, csiDrivers: ["BlockDevice"] } });
    add({
      name: "blocked-existing-cluster",
      why: "An Existing cluster that does not declare SharedFilesystem: nothing is installed there, so the replica is Blocked.",
      xr,
      observed: {},
      phase: "Blocked",
    });
  }
  {
    const xr = baseXr();
    add({
      name: "eks-addon",
      why: "EKS without the EFS CSI driver: the aws-efs-csi-driver add-on is composed (shared by external name, never deleted by a cache).",
      xr,
      observed: cluster(xr, onKind({ CSIDriver: { missing: true }, job: "absent", report: "absent" })),
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({
      cluster: aks,
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: {
          s3: {
            uri: "s3://models/qwen3-8b/",
            region: "eu-west-1",
            endpoint: "https://minio.storage.svc:9000",
            pathStyle: true,
            credentialsSecretRef: { name: "s3-creds" },
          },
        },
      },
    });
    const input = tenancyInput({ credentialDestinations: { s3: ["https://minio.storage.svc:9000"] } });
    add({
      name: "aks-source-s3",
      why: "AKS with Azure Files present, an S3-compatible source: credentials come from Secret s3-creds through secretKeyRef only, to the one endpoint the platform's tenancy policy allows for S3 credentials.",
      xr,
      observed: cluster(xr, onKind({ job: "absent", report: "absent" }), {}, input),
      phase: "Pending",
      input,
    });
  }
  {
    const xr = baseXr({
      cluster: aks,
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { azure: { uri: "azure://mlmodels/models/qwen3-8b/", credentialsSecretRef: { name: "azure-sas" } } },
      },
    });
    add({
      name: "source-azure",
      why: "AKS, an Azure Blob Storage prefix: the SAS token (or account key) in Secret azure-sas reaches the Job by secretKeyRef only, to the account's own blob host (https://mlmodels.blob.core.windows.net), which the default tenancy policy allows; the prefix is resolved to blob versions or ETags on the cluster and pinned by the fleet.",
      xr,
      observed: cluster(xr, onKind({ job: "absent", report: "absent" })),
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({
      cluster: existing,
      artifact: {
        kind: "Tokenizer",
        layout: "Flat",
        source: {
          http: {
            files: [
              {
                url: "https://mirror.example.com/qwen3/tokenizer.json",
                path: "tokenizer.json",
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
              },
              {
                url: "https://mirror.example.com/qwen3/tokenizer_config.json",
                path: "tokenizer_config.json",
                sha256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
              },
            ],
          },
        },
      },
    });
    add({
      name: "existing-cluster-source-http",
      why: "An Existing cluster that declares SharedFilesystem (nothing installed), HTTP files pinned by sha256 handed to the Job in a ConfigMap.",
      xr,
      observed: {},
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { http: { url: "https://mirror.example.com/qwen3/model.gguf", sha256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" } },
      },
    });
    add({ name: "source-http-url", why: "One HTTP file pinned by its sha256.", xr, observed: {}, phase: "Pending" });
  }
  {
    const xr = baseXr({
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { oci: { reference: "registry.example.com/models/qwen3-8b:v1", pullSecretRef: { name: "registry-pull" } } },
      },
    });
    add({
      name: "source-oci",
      why: "An OCI / ModelPack artifact; the pull secret is mounted and named by REGISTRY_AUTH_FILE, never copied, and goes only to a registry the platform's tenancy policy lists.",
      xr,
      observed: {},
      phase: "Pending",
      input: tenancyInput({ credentialDestinations: { oci: ["https://registry.example.com"] } }),
    });
  }
  {
    // The fleet pinned the generations the first cluster verified: this cluster's Job reads exactly those.
    const pin = `generations:1796290569003451:sha256:${"4".repeat(64)}`;
    const xr = baseXr({
      cluster: gke,
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { gcs: { uri: "gs://ml-models/qwen3-8b/", credentialsSecretRef: { name: "gcs-reader" } } },
      },
      pin: { resolvedRevision: pin, manifestDigest: DIGEST },
    });
    add({
      name: "source-gcs",
      why: "A Cloud Storage prefix the fleet pinned to the generations the first cluster verified: the Job reads those generations (--gcs-generations) and must produce the pinned manifest; the service-account key is mounted from Secret gcs-reader, never copied, and its token goes only to the endpoint the platform allows (the default, https://storage.googleapis.com).",
      xr,
      observed: {},
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({
      artifact: {
        kind: "Bytes",
        layout: "Flat",
        source: {
          inline: {
            files: [
              { path: "chat_template.jinja", content: "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}" },
              { path: "config/generation.json", content: '{"temperature": 0.6}' },
            ],
          },
        },
      },
    });
    add({
      name: "source-inline",
      why: "Inline files travel in a ConfigMap the function composes, projected to their paths, and are hydrated from file://.",
      xr,
      observed: {},
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({ artifact: { kind: "Bytes", layout: "Flat", source: { configMap: { name: "prompt-templates" } } } });
    add({
      name: "source-configmap",
      why: "A ConfigMap already on the cluster is mounted read-only and hydrated from file://.",
      xr,
      observed: {},
      phase: "Pending",
    });
  }
  {
    const xr = baseXr({
      cluster: gke,
      artifact: { kind: "Weights", layout: "HuggingFaceCache", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } } },
    });
    add({
      name: "source-huggingface-cache-layout",
      why: "A public Hugging Face repo (no token) in the HuggingFaceCache layout, on GKE with Filestore present.",
      xr,
      observed: cluster(xr, onKind({ job: "absent", report: "absent" })),
      phase: "Pending",
    });
  }
  {
    // The claim is in another namespace, so no Secret may be named: the Job runs there and would read it there.
    const artifact = {
      kind: "Weights",
      layout: "Flat",
      source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", include: ["*.safetensors", "*.json"] } },
    };
    const xr = baseXr(
      {
        artifact,
        storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models", namespace: "serving", hydrate: false } },
        claimName: "team-models",
        pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST },
      },
      { attempts: 1, claimName: "team-models", phase: "Verifying" },
    );
    const input = tenancyInput({
      existingPVC: { grants: [{ controlPlaneNamespaces: ["ml-team"], namespace: "serving", claimNames: ["team-models"], access: "ReadOnly" }] },
    });
    add({
      name: "existingpvc-verify",
      why: "ExistingPVC, pre-populated, in namespace serving, which the platform's tenancy policy grants this control-plane namespace read-only: the claim is only observed (never created or deleted), and the Job only verifies what it holds against the pin.",
      xr,
      observed: cluster(
        xr,
        onKind({ job: { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }, report: ready(), volume: bound }),
        {},
        input,
      ),
      phase: "Ready",
      input,
    });
  }
  {
    const xr = baseXr({ storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models", hydrate: true } }, claimName: "team-models" });
    add({
      name: "existingpvc-missing",
      why: "ExistingPVC whose claim is not on the cluster: Blocked with the claim and namespace named.",
      xr,
      observed: cluster(xr, onKind({ volume: { missing: true }, job: "absent", report: "absent" })),
      phase: "Blocked",
    });
  }
  {
    // A new revision: the fleet hands a new claim; the old claim's volume was observed.
    const oldXr = baseXr({ claimName: "qwen3-8b-0aa11bb22c" }, { attempts: 1, claimName: "qwen3-8b-0aa11bb22c", phase: "Ready" });
    const oldObserved = cluster(oldXr, onKind({ volume: bound, job: "absent" }));
    const oldVolume = Object.fromEntries(Object.entries(oldObserved).filter(([k]) => k.startsWith("volume-")));
    const xr = baseXr({ previousClaimNames: ["qwen3-8b-0aa11bb22c"] }, { attempts: 1, claimName: "qwen3-8b-0aa11bb22c", phase: "Ready" });
    add({
      name: "revision-rollout",
      why: "A new revision gets a new claim and Job; the old revision's volume stays while the new one hydrates.",
      xr,
      observed: cluster(xr, onKind({ job: running, report: hydrating, volume: bound }), oldVolume),
      phase: "Hydrating",
    });
    const xr2 = baseXr({ previousClaimNames: ["qwen3-8b-0aa11bb22c"] }, { ...status1, phase: "Verifying" });
    add({
      name: "revision-verified",
      why: "The new revision is verified: the old volume's Object is switched to allow deletion, and dropped on the next pass.",
      xr: xr2,
      observed: cluster(
        xr2,
        onKind({ job: { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }, report: ready(), volume: bound }),
        oldVolume,
      ),
      phase: "Ready",
    });
    add({
      name: "revision-verified-still-mounted",
      why: "The new revision is verified, but a serving workload on this cluster still mounts the old volume (the serving step's record says so): the old volume stays, as it is, until no workload mounts it; status.oldVolumes says who.",
      xr: xr2,
      observed: cluster(
        xr2,
        onKind({ job: { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }, report: ready(), volume: bound }),
        oldVolume,
      ),
      phase: "Ready",
      mounts: [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "qwen3-8b-mount-5f6830a983",
            namespace: "serving-team",
            labels: {
              "modelcache.dev/cache": "qwen3-8b",
              "modelcache.dev/cache-namespace": "ml-team",
              "modelcache.dev/cluster": "prod-east",
              "modelcache.dev/claim": "qwen3-8b-0aa11bb22c",
            },
          },
          data: {
            cache: "ml-team/qwen3-8b",
            cluster: "prod-east",
            claim: "mc-ml-team/qwen3-8b-0aa11bb22c",
            workload: "Deployment serving/vllm",
            consumer: "ServedModel serving-team/qwen3-8b",
          },
        },
      ],
    });
  }
  {
    const xr = baseXr({ refetch: "2024-06-01" }, { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Ready", observedRefetch: "" });
    const before = baseXr({}, { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating" });
    add({
      name: "refetch",
      why: "A new refetch value starts a new hydration: a new Job name, the old Job and report dropped.",
      xr,
      observed: cluster(before, onKind({ job: running, report: hydrating, volume: bound })),
      phase: "Pending",
    });
  }
  {
    // The compact form the fleet composes: the same hydrating cluster as above, the contract read from the ModelCache.
    const full = baseXr({}, status1);
    const observed = cluster(full, onKind({ job: running, report: hydrating, volume: bound }));
    const compact = compactForm(full);
    add({
      name: "from-contract",
      why: "The compact form the fleet composes: cacheRef, cluster and contractHash; the rest is the contract the ConfigMap qwen3-8b-contract-<hash> holds (composed by the ModelCache, delivered as a required resource by name). Composes exactly what replica-hydrating (the same spec in full) composes.",
      xr: compact.xr,
      observed,
      required: [contractMap(compact.contract)],
      phase: "Hydrating",
    });
    // The fleet pinned the bytes: the replica names the new hash, whose ConfigMap is not there yet (only the old one is).
    const pinned = compactForm(baseXr({ pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } }, status1));
    add({
      name: "contract-pending",
      why: "The replica names a contract whose ConfigMap is not there yet (only the previous contract's is; Crossplane applied the replica first): nothing is decided, every observed Object is kept exactly as observed (no volume or running Job deleted, nothing started), and the Hydrated condition says WaitingForContract, naming the ConfigMap.",
      xr: pinned.xr,
      observed,
      required: [contractMap(compact.contract)],
      phase: "Hydrating",
    });
  }
  {
    // What an earlier version composed: every cache in the one namespace model-cache.
    const before = baseXr({}, status1);
    const observed = inNamespace(cluster(before, onKind({ job: running, report: hydrating, volume: bound })), "model-cache");
    add({
      name: "shared-namespace",
      why: "Migration: an earlier version composed this volume, Job and report in model-cache, the one namespace every cache shared. The fleet now names the tenant's namespace (mc-ml-team), but the volume stays where it is, with its Job and report: nothing is recreated or dropped. It moves with the next revision (a new claim).",
      xr: before,
      observed,
      phase: "Hydrating",
    });
  }
  {
    const xr = baseXr({
      namespace: "mc-team-b",
      hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8, tolerations: [{ operator: "Exists" }] },
    });
    add({
      name: "tenancy-blocked",
      why: "A replica written by hand in control-plane namespace ml-team names team-b's namespace on the cluster and tolerates every taint: the platform's tenancy policy refuses it (Blocked, naming each field and rule), and nothing is composed.",
      xr,
      observed: {},
      phase: "Blocked",
      refused: true,
    });
  }
  {
    const xr = baseXr({ storage: { backend: "PVC", pvc: { size: "forty gigs" } } });
    add({ name: "invalid-spec", why: "Bad input: a Fatal result naming the field; nothing composed is touched.", xr, observed: {}, phase: "Fatal" });
  }
  for (const s of storageScenarios()) add(s);
  return list;
}
