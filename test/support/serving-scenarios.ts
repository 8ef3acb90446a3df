// The serving scenarios: a consumer XR, what the platform's own steps
// composed, what its clusters show, and the ModelCaches Crossplane delivers.
// The unit tests assert each one's outcome; scripts/examples/serving.ts writes each as
// examples/serving-<name>/ for `crossplane render`.
import type { GateState } from "../../functions/api/serving.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { observedObject } from "./replica-builders.ts";
import { bridgeKeys } from "../../functions/composition/serving/bridge.ts";
import { composeServing } from "../../functions/composition/serving/compose.ts";
import { parseInput } from "../../functions/composition/fleet/parse.ts";
import {
  CACHE_NS,
  CLUSTER,
  deployment,
  inferenceService,
  leaderWorkerSet,
  modelCache,
  servingInput,
  servingRequest,
  V1_CLAIM,
  wrapped,
} from "./serving-builders.ts";

export interface Scenario {
  name: string;
  why: string;
  /** What the platform's own steps composed, by composition resource name. */
  composed: Record<string, JsonObject>;
  observed: Record<string, ResourceState>;
  /** The ModelCaches there are (Crossplane delivers the ones asked for). */
  caches: JsonObject[];
  input: JsonObject;
  /** The state of each status.modelCaches line, in order. */
  want: GateState[];
  /** Whether the workload (key "workload") is in the desired state afterwards. */
  composedAfter: boolean;
}

/** Deliver the caches the way Crossplane does: for each requirement, the ModelCaches it selects. */
export function deliver(rsp: FunctionResponse | undefined, caches: JsonObject[]): Record<string, JsonObject[]> {
  const out: Record<string, JsonObject[]> = {};
  for (const [key, sel] of Object.entries(rsp?.requirements.resources ?? {})) {
    const name = "name" in sel.match ? sel.match.name : "";
    out[key] = caches.filter((c) => (c["metadata"] as JsonObject)["name"] === name && (c["metadata"] as JsonObject)["namespace"] === sel.namespace);
  }
  return out;
}

export function requestOf(s: Scenario, required: Record<string, JsonObject[]>): FunctionRequest {
  return servingRequest({
    desired: s.composed,
    observed: Object.fromEntries(Object.entries(s.observed).map(([k, v]) => [k, v.resource])),
    required,
    input: s.input,
  });
}

/** Compose as Crossplane does: a first call to learn the requirements, then with them delivered. */
export function composeScenario(s: Scenario): FunctionResponse {
  const input = parseInput(s.input);
  if (!input.ok || input.value.serving === undefined) throw new Error(`scenario ${s.name}: bad input`);
  const first = composeServing(requestOf(s, {}), input.value.serving);
  return composeServing(requestOf(s, deliver(first, s.caches)), input.value.serving);
}

/** What the cluster shows once `rsp`'s resources were applied: each Object observed, its manifest as applied. */
function observedAfter(rsp: FunctionResponse, status: (key: string) => JsonObject | undefined = () => undefined): Record<string, ResourceState> {
  const out: Record<string, ResourceState> = {};
  for (const [key, st] of Object.entries(rsp.desired.resources)) {
    const s = status(key);
    out[key] = observedObject(key, st.resource, { name: `qwen3-8b-${key}`.slice(0, 63), ...(s ? { status: s } : {}) });
  }
  return out;
}

function scenario(s: Omit<Scenario, "observed" | "input" | "composedAfter"> & Partial<Pick<Scenario, "observed" | "input" | "composedAfter">>): Scenario {
  return { observed: {}, input: servingInput(), composedAfter: true, ...s };
}

/** A Service the platform's step composes beside the workload: it passes through untouched. */
const SERVICE = wrapped({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "qwen3-8b", namespace: CACHE_NS },
  spec: { selector: { app: "qwen3-8b" }, ports: [{ port: 8000, targetPort: 8000 }] },
});

/** The workload as it runs after serving on the first revision's volume. */
function runningOnV1(workload: JsonObject): Record<string, ResourceState> {
  const s = scenario({ name: "v1", why: "", composed: { workload }, caches: [modelCache("ready")], want: [] });
  return observedAfter(composeScenario(s));
}

function otherNamespace(
  accessMode = "ReadWriteMany",
  bound = true,
): { composed: Record<string, JsonObject>; observed: Record<string, ResourceState>; caches: JsonObject[] } {
  const composed = { workload: wrapped(deployment({ "modelcache.dev/caches": "qwen3-8b" }, "serving")) };
  const caches = [modelCache("ready", { accessMode })];
  const keys = bridgeKeys(CLUSTER, CACHE_NS, V1_CLAIM, "serving");
  // The cache's claim and its CSI volume, as the Observe-only Objects read them; the bridged claim Bound or not.
  const manifests: Record<string, JsonObject> = {
    [keys.sourceClaim]: {
      spec: { accessModes: [accessMode], volumeName: "pvc-7d1f0c2e", storageClassName: "filestore-rwx", resources: { requests: { storage: "40Gi" } } },
      status: { phase: "Bound" },
    },
    [keys.sourceVolume]: {
      spec: {
        capacity: { storage: "40Gi" },
        accessModes: [accessMode],
        csi: {
          driver: "filestore.csi.storage.gke.io",
          volumeHandle: "modeInstance/us-east1-b/pvc-7d1f0c2e/vol1",
          volumeAttributes: { ip: "10.0.0.2", volume: "vol1" },
        },
      },
    },
  };
  let s = scenario({ name: "x", why: "", composed, caches, want: [] });
  let observed: Record<string, ResourceState> = {};
  // Three passes: read the claim, read its volume, compose the bridge; then observe it as Bound (or not).
  for (let i = 0; i < 3; i++) {
    const rsp = composeScenario({ ...s, observed });
    observed = observedAfter(rsp, (k) => {
      if (k === "workload") return undefined;
      const m = manifests[k];
      if (m !== undefined) return (m["status"] as JsonObject | undefined) ?? {};
      return k === keys.claim ? { phase: bound ? "Bound" : "Pending" } : undefined;
    });
    for (const [k, m] of Object.entries(manifests)) {
      const o = observed[k];
      if (o === undefined) continue;
      const at = (o.resource["status"] as JsonObject)["atProvider"] as JsonObject;
      at["manifest"] = { ...(at["manifest"] as JsonObject), spec: m["spec"] ?? null };
    }
    s = { ...s, observed };
  }
  delete observed["workload"];
  return { composed, observed, caches };
}

export function scenarios(): Scenario[] {
  const deploy = () => wrapped(deployment());
  return [
    scenario({
      name: "hydrating-held",
      why: "Seed 004's multi-node serving: a LeaderWorkerSet gang (leader and worker pods) that mounts one RWX cache. The cache is still hydrating on the gang's cluster, so the gang is not composed; the consumer's ModelCachesReady condition names the cache, the cluster, its phase, bytes and ETA.",
      composed: { workload: wrapped(leaderWorkerSet()), service: SERVICE },
      caches: [modelCache("hydrating")],
      want: ["Held"],
      composedAfter: false,
    }),
    scenario({
      name: "ready-mounted",
      why: "The same gang once the cache is Ready on its cluster with the pinned manifest digest: every pod of the gang mounts the same claim read-only at the cache's mountPath; the Service passes through untouched.",
      composed: { workload: wrapped(leaderWorkerSet()), service: SERVICE },
      caches: [modelCache("ready")],
      want: ["Mounted"],
    }),
    scenario({
      name: "deployment-ready",
      why: "A vLLM Deployment: both containers mount the verified cache read-only (mountInto: AllContainers, the default); everything else in the manifest is as the platform's step composed it.",
      composed: { workload: deploy() },
      caches: [modelCache("ready")],
      want: ["Mounted"],
    }),
    scenario({
      name: "annotated-containers",
      why: "mountInto: AnnotatedContainers: only the containers the workload names in modelcache.dev/containers (vllm) mount; the metrics sidecar does not.",
      composed: { workload: wrapped(deployment({ "modelcache.dev/caches": "qwen3-8b", "modelcache.dev/containers": "vllm" })) },
      caches: [modelCache("ready")],
      input: servingInput({ mountInto: "AnnotatedContainers" }),
      want: ["Mounted"],
    }),
    scenario({
      name: "kserve-ready",
      why: "A KServe InferenceService: the predictor gets the volume and its model container (kserve-container) the read-only mount.",
      composed: { workload: wrapped(inferenceService()) },
      caches: [modelCache("ready")],
      want: ["Mounted"],
    }),
    scenario({
      name: "rollout-old-kept",
      why: "Revision rollout: the cache moved to revision v2, which is still hydrating into a new volume on this cluster. The Deployment keeps the v1 volume it mounts (verified before); nothing about it changes.",
      composed: { workload: deploy() },
      observed: runningOnV1(deploy()),
      caches: [modelCache("rollout-hydrating")],
      want: ["RolloutPending"],
    }),
    scenario({
      name: "rollout-new-mounted",
      why: "Revision rollout: v2 is verified on this cluster with the pinned digest, so the Deployment moves to the new volume (a rolling update). The old volume stays on the cluster while any pod mounts it (the cache keeps it until its own is verified, and Kubernetes' PVC protection while in use).",
      composed: { workload: deploy() },
      observed: runningOnV1(deploy()),
      caches: [modelCache("rollout-verified")],
      want: ["Mounted"],
    }),
    scenario({
      name: "drift-stopped",
      why: "The volume a running Deployment mounts no longer holds the pinned manifest (drift). The Deployment is scaled to zero, not deleted, until the cluster verifies the bytes again.",
      composed: { workload: deploy() },
      observed: runningOnV1(deploy()),
      caches: [modelCache("drift")],
      want: ["Stopped"],
      composedAfter: true,
    }),
    (() => {
      const o = otherNamespace();
      return scenario({
        name: "other-namespace",
        why: "The Deployment runs in namespace serving, the cache's volume is in mc-ml-team. A second, read-only claim in serving binds a static PersistentVolume with the same CSI volume handle (reclaim policy Retain): no bytes copied, and deleting it never touches the data.",
        ...o,
        want: ["Mounted"],
      });
    })(),
    (() => {
      const o = otherNamespace("ReadWriteOnce");
      return scenario({
        name: "other-namespace-rwo",
        why: "The same, for a cache on a ReadWriteOnce volume: it cannot be mounted from another namespace (nor by pods on other nodes), so the workload is Blocked and the condition says how to fix it.",
        ...o,
        want: ["Blocked"],
        composedAfter: false,
      });
    })(),
    scenario({
      name: "tenancy-refused",
      why: "The workload asks for a cache in another control-plane namespace (shared-models) that the platform has not granted to this consumer's namespace: Blocked, never mounted.",
      composed: { workload: wrapped(deployment({ "modelcache.dev/caches": "shared-models/qwen3-8b" })) },
      caches: [modelCache("ready", { namespace: "shared-models" })],
      want: ["Blocked"],
      composedAfter: false,
    }),
    scenario({
      name: "tenancy-granted",
      why: "The platform grants ml-team the caches of shared-models in the Input (serving.tenancy.grants): the workload mounts the shared cache.",
      composed: { workload: wrapped(deployment({ "modelcache.dev/caches": "shared-models/qwen3-8b" })) },
      caches: [modelCache("ready", { namespace: "shared-models" })],
      input: servingInput({ tenancy: { grants: [{ controlPlaneNamespaces: ["ml-team"], cacheNamespace: "shared-models", caches: ["qwen3-8b"] }] } }),
      want: ["Mounted"],
    }),
    scenario({
      name: "node-source-blocked",
      why: "The cache keeps node-local copies only on this cluster (replication AllMatchingNodes, nodeLocal.seed Source): each node hydrated from the source and no shared claim exists there, though the cache names one. The Deployment is Blocked, not composed, and the condition says why and how to fix it (a shared copy, or per-node workloads on the node claims), rather than mounting a claim that does not exist and leaving its pods Pending.",
      composed: { workload: deploy() },
      caches: [modelCache("node-source")],
      want: ["Blocked"],
      composedAfter: false,
    }),
    scenario({
      name: "node-source-stopped",
      why: "A Deployment that mounted the cluster's shared copy, after the cache switched to nodeLocal.seed Source: the cluster lets the shared copy go once every node holds its own, so the Deployment is scaled to zero, not deleted (Blocked with the fix), as soon as the switch is reported, before its claim goes.",
      composed: { workload: deploy() },
      observed: runningOnV1(deploy()),
      caches: [modelCache("node-source")],
      want: ["Blocked"],
      composedAfter: true,
    }),
    scenario({
      name: "no-cluster",
      why: "A workload whose Object does not say which cluster it runs on (annotation modelcache.dev/cluster) cannot be gated: Blocked with the fix.",
      composed: { workload: { ...wrapped(deployment()), metadata: {} } },
      caches: [modelCache("ready")],
      want: ["Blocked"],
      composedAfter: false,
    }),
  ];
}
