// Finding the workloads earlier steps composed that ask for caches, bare or
// wrapped in a provider-kubernetes Object, and where each kind keeps its pod
// templates and how it is stopped without being deleted.
import { CACHES_ANNOTATION, CLUSTER_ANNOTATION, CONTAINERS_ANNOTATION, KSERVE_STOP_ANNOTATION } from "../../api/serving.ts";
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import { field, isObject, str } from "../../common/json.ts";

/** A place pods are described: the object holding `volumes` and the containers that may mount. */
export interface PodSite {
  /** Where it is, for messages: `spec.template.spec`. */
  path: string;
  /** The object that holds `volumes` (a PodSpec, or KServe's predictor). */
  holder: JsonObject;
  /** Each container with the name it is known by (KServe's model container is kserve-container). */
  containers: { name: string; container: JsonObject }[];
}

export interface WorkloadKind {
  /** `apps/v1 Deployment` */
  gvk: string;
  /** The pod sites of a manifest (mutable: the manifest is a copy). */
  sites(manifest: JsonObject): PodSite[];
  /** Stop the workload without deleting it; says how, for the condition. */
  stop(manifest: JsonObject): string;
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

function containersOf(holder: JsonObject): { name: string; container: JsonObject }[] {
  const cs = holder["containers"];
  return Array.isArray(cs) ? cs.filter(isObject).map((c) => ({ name: str(c["name"]) ?? "", container: c })) : [];
}

function podSpecAt(manifest: JsonObject, ...path: string[]): PodSite[] {
  const holder = obj(field(manifest, ...path));
  return holder === undefined ? [] : [{ path: path.join("."), holder, containers: containersOf(holder) }];
}

function scaleToZero(manifest: JsonObject, what: string): string {
  const spec = obj(manifest["spec"]);
  if (spec !== undefined) spec["replicas"] = 0;
  return `scaled to zero (spec.replicas: 0${what})`;
}

const DEPLOYMENT: WorkloadKind = {
  gvk: "apps/v1 Deployment",
  sites: (m) => podSpecAt(m, "spec", "template", "spec"),
  stop: (m) => scaleToZero(m, ""),
};

const STATEFUL_SET: WorkloadKind = {
  gvk: "apps/v1 StatefulSet",
  sites: (m) => podSpecAt(m, "spec", "template", "spec"),
  stop: (m) => scaleToZero(m, ""),
};

const LEADER_WORKER_SET: WorkloadKind = {
  gvk: "leaderworkerset.x-k8s.io/v1 LeaderWorkerSet",
  // The leader template is optional (the worker template serves both when absent); every pod of the gang mounts.
  sites: (m) => [
    ...podSpecAt(m, "spec", "leaderWorkerTemplate", "leaderTemplate", "spec"),
    ...podSpecAt(m, "spec", "leaderWorkerTemplate", "workerTemplate", "spec"),
  ],
  stop: (m) => scaleToZero(m, ": no groups"),
};

const INFERENCE_SERVICE: WorkloadKind = {
  gvk: "serving.kserve.io/v1beta1 InferenceService",
  // The predictor is a pod spec inline; its model container is kserve-container; workerSpec (multi-node) is another.
  sites: (m) => {
    const out: PodSite[] = [];
    const predictor = obj(field(m, "spec", "predictor"));
    if (predictor !== undefined) {
      const model = obj(predictor["model"]);
      out.push({
        path: "spec.predictor",
        holder: predictor,
        containers: [...(model ? [{ name: "kserve-container", container: model }] : []), ...containersOf(predictor)],
      });
      const worker = obj(predictor["workerSpec"]);
      if (worker !== undefined) out.push({ path: "spec.predictor.workerSpec", holder: worker, containers: containersOf(worker) });
    }
    return out;
  },
  // KServe scales an InferenceService to nothing on this annotation and keeps its spec (replicas has no single place).
  stop: (m) => {
    const meta = obj(m["metadata"]) ?? {};
    m["metadata"] = meta;
    const annotations = obj(meta["annotations"]) ?? {};
    meta["annotations"] = { ...annotations, [KSERVE_STOP_ANNOTATION]: "true" };
    return 'stopped (annotation serving.kserve.io/stop: "true")';
  },
};

export const KINDS: readonly WorkloadKind[] = [DEPLOYMENT, STATEFUL_SET, LEADER_WORKER_SET, INFERENCE_SERVICE];

export function kindOf(manifest: JsonObject): WorkloadKind | undefined {
  const gvk = `${str(manifest["apiVersion"]) ?? ""} ${str(manifest["kind"]) ?? ""}`;
  return KINDS.find((k) => k.gvk === gvk);
}

/** provider-kubernetes' Object, cluster-scoped (v1) or namespaced (v2). */
export function isObjectWrapper(r: JsonObject): boolean {
  const api = str(r["apiVersion"]) ?? "";
  return r["kind"] === "Object" && (api.startsWith("kubernetes.crossplane.io/") || api.startsWith("kubernetes.m.crossplane.io/"));
}

/** The cluster object a desired resource describes: the Object's manifest, or the resource itself. */
export function manifestOf(r: JsonObject): JsonObject | undefined {
  return isObjectWrapper(r) ? obj(field(r, "spec", "forProvider", "manifest")) : r;
}

export function annotationsOf(m: JsonObject | undefined): Record<string, string> {
  const a = obj(field(m, "metadata", "annotations"));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

/** The most caches one workload may name: each is a required resource Crossplane fetches on every call. */
export const MAX_CACHES_PER_WORKLOAD = 16;

function list(v: string | undefined): string[] {
  // Bounded before it is split: an annotation is up to 256 KiB of whatever the writer chose.
  return (v ?? "")
    .slice(0, 16_384)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A workload that asks for caches, as the earlier steps composed it. */
export interface Workload {
  key: string;
  /** The desired resource as composed by earlier steps. */
  resource: JsonObject;
  wrapped: boolean;
  manifest: JsonObject;
  kind: WorkloadKind | undefined;
  /** `Deployment serving/vllm` */
  display: string;
  namespace: string;
  /** As written: `name` or `namespace/name`. */
  caches: string[];
  containers: string[];
  cluster: string | undefined;
}

/** Every desired resource whose workload manifest carries the caches annotation, in key order. */
export function findWorkloads(desired: Record<string, { resource: JsonObject }>): Workload[] {
  const out: Workload[] = [];
  for (const key of Object.keys(desired).sort()) {
    const resource = desired[key]?.resource;
    if (resource === undefined) continue;
    const manifest = manifestOf(resource);
    const a = annotationsOf(manifest);
    const caches = list(a[CACHES_ANNOTATION]);
    if (manifest === undefined || caches.length === 0) continue;
    const wrapped = isObjectWrapper(resource);
    const namespace = str(field(manifest, "metadata", "namespace")) ?? "";
    const name = str(field(manifest, "metadata", "name")) ?? "";
    out.push({
      key,
      resource,
      wrapped,
      manifest,
      kind: kindOf(manifest),
      display: `${str(manifest["kind"]) ?? "(no kind)"} ${namespace ? `${namespace}/` : ""}${name}`,
      namespace,
      caches: [...new Set(caches)],
      containers: list(a[CONTAINERS_ANNOTATION]),
      cluster: (wrapped ? annotationsOf(resource)[CLUSTER_ANNOTATION] : undefined) ?? a[CLUSTER_ANNOTATION],
    });
  }
  return out;
}
