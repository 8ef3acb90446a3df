// A pvcClone source at the cluster level: whether the cache's volume is a CSI
// clone of the source claim (a PVC dataSource, which Kubernetes allows only
// within one namespace and one storage class, and only at least as large as
// the source) or a copy the hydration Job makes from the source mounted
// read-only. A clone is verified by a Job (`verify`) before it is Ready; a
// copy is checked file by file against the source's manifest as it is made.
// Pure: decideClone holds the rules, clone.test.ts one row per way it goes.
import { Quantity } from "../../cel/quantity.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import { field, isObject, str } from "../../common/json.ts";
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { planBridge } from "../serving/bridge.ts";
import type { PhaseDecision } from "./decide.ts";
import { observe, wrapObject, type Observation, type ProviderConfigRef } from "./objects.ts";

export const CLONE_SOURCE_KEY = "clone-source";

type Method = "Auto" | "Clone" | "Copy";

/** What the source claim shows, as its Observe-only Object read it. */
export interface SourceClaim {
  exists: boolean | undefined;
  phase: string | undefined;
  storageClassName: string | undefined;
  capacity: string | undefined;
}

export interface CloneObservations {
  method: Method;
  source: { namespace: string; name: string };
  /** Where the cache's volume (and the Job) live on the cluster. */
  volumeNamespace: string;
  /** The backend makes the cache's own claim (PVC); an ExistingPVC can only be copied into. */
  ownsVolume: boolean;
  storageClassName: string | undefined;
  /** spec.storage.pvc.size */
  size: string | undefined;
  claim: SourceClaim;
  /** The cache's claim as composed on an earlier pass, when it is observed: the choice it was made with stands. */
  composed: { cloned: boolean } | undefined;
  cluster: string;
}

export type CloneDecision =
  /** Decide nothing yet: compose neither the volume nor a Job. */
  | { kind: "wait"; message: string }
  | { kind: "blocked"; message: string }
  | { kind: "clone" }
  /** `waiting`: what must hold before the copy Job can start (the source claim there and Bound). */
  | { kind: "copy"; bridged: boolean; why: string | undefined; waiting: string | undefined };

const FIELD = "spec.artifact.source.pvcClone";

function compare(a: string, b: string): number | undefined {
  try {
    return Quantity.parse(a).compareTo(Quantity.parse(b));
  } catch {
    return undefined;
  }
}

/** Why Kubernetes cannot clone the source into the cache's volume, or undefined when it can. */
function whyNoClone(o: CloneObservations): string | undefined {
  const src = `${o.source.namespace}/${o.source.name}`;
  if (!o.ownsVolume) return "the cache's volume is an existing claim (storage.backend ExistingPVC) and a clone is a new claim";
  if (o.source.namespace !== o.volumeNamespace)
    return `the source claim ${src} is in namespace ${o.source.namespace}, the cache's volume in ${o.volumeNamespace}, and Kubernetes clones only within one namespace`;
  if (o.claim.storageClassName === undefined || o.claim.storageClassName === "")
    return `the source claim ${src} has no storage class (it was provisioned statically), so no CSI driver can clone it`;
  if (o.claim.storageClassName !== o.storageClassName)
    return `the source claim ${src} is of storage class ${o.claim.storageClassName} and the cache's volume of ${o.storageClassName ?? "(none)"}, and Kubernetes clones only within one storage class`;
  if (o.size !== undefined && o.claim.capacity !== undefined && (compare(o.size, o.claim.capacity) ?? 0) < 0)
    return `spec.storage.pvc.size ${o.size} is smaller than the source claim ${src} (${o.claim.capacity}), and a clone is at least as large as its source`;
  return undefined;
}

export function decideClone(o: CloneObservations): CloneDecision {
  const src = `PersistentVolumeClaim ${o.source.namespace}/${o.source.name} (${FIELD}.claimName)`;
  const bridged = o.source.namespace !== o.volumeNamespace;
  const sourceGap =
    o.claim.exists === undefined
      ? `reading ${src} on cluster ${o.cluster}`
      : o.claim.exists === false
        ? `${src} does not exist on cluster ${o.cluster}: publish the artifact into it there, or name another claim`
        : o.claim.phase !== "Bound"
          ? `${src} is ${o.claim.phase ?? "not Bound"} on cluster ${o.cluster}: waiting for it to be Bound`
          : undefined;
  // Once the volume exists its dataSource is fixed: what it was composed with stands, whatever the source shows now.
  if (o.composed !== undefined) return o.composed.cloned ? { kind: "clone" } : { kind: "copy", bridged, why: undefined, waiting: sourceGap };
  if (o.claim.exists === false) return { kind: "blocked", message: sourceGap ?? "" };
  if (sourceGap !== undefined) return { kind: "wait", message: sourceGap };
  const why = whyNoClone(o);
  if (o.method === "Copy") return { kind: "copy", bridged, why: `${FIELD}.method is Copy`, waiting: undefined };
  if (why === undefined) return { kind: "clone" };
  if (o.method === "Clone")
    return { kind: "blocked", message: `${FIELD}.method is Clone but ${why}: set ${FIELD}.method to Auto (or Copy) to copy it instead` };
  return { kind: "copy", bridged, why, waiting: undefined };
}

/** The source claim as its Observe-only Object read it. */
export function readSourceClaim(obs: Observation): SourceClaim {
  return {
    exists: obs.exists,
    phase: str(field(obs.manifest, "status", "phase")),
    storageClassName: str(field(obs.manifest, "spec", "storageClassName")),
    capacity: str(field(obs.manifest, "status", "capacity", "storage")) ?? str(field(obs.manifest, "spec", "resources", "requests", "storage")),
  };
}

/** Whether the cache's claim, as composed earlier, is a clone: undefined while it is not observed. */
export function composedAsClone(volume: ResourceState | undefined): { cloned: boolean } | undefined {
  if (volume === undefined) return undefined;
  return { cloned: isObject(field(volume.resource, "spec", "forProvider", "manifest", "spec", "dataSource")) };
}

/** The dataSource of a clone of `claimName`. */
export function cloneDataSource(claimName: string): JsonObject {
  return { kind: "PersistentVolumeClaim", name: claimName };
}

export interface ClonePlan {
  decision: CloneDecision;
  /** Desired resources: the source claim read-only, and a read-only bridge for a copy from another namespace. */
  resources: Record<string, ResourceState>;
  /** Reasons no Job may start yet, and reasons the replica is Blocked. */
  waiting: string[];
  blocked: string[];
}

/** Everything a pvcClone source needs on the cluster, from the spec and what is observed. */
export function planClone(
  spec: ModelCacheReplicaSpec,
  vol: { claimName: string; namespace: string; owned: boolean; storageClassName: string | undefined },
  observed: Record<string, ResourceState>,
  volumeKey: string,
): ClonePlan | undefined {
  const s = spec.artifact.source.pvcClone;
  if (s === undefined) return undefined;
  const pc: ProviderConfigRef = spec.cluster.providerConfigRef;
  const source = { namespace: s.namespace ?? spec.namespace, name: s.claimName };
  const sourceObs = observe(observed[CLONE_SOURCE_KEY]);
  const claim = readSourceClaim(sourceObs);
  const resources: Record<string, ResourceState> = {
    [CLONE_SOURCE_KEY]: {
      resource: wrapObject({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { ...source } }, pc, { policy: "observe" }),
      connectionDetails: {},
      ready: claim.phase === "Bound" ? "True" : "False",
    },
  };
  const decision = decideClone({
    method: s.method,
    source,
    volumeNamespace: vol.namespace,
    ownsVolume: vol.owned,
    storageClassName: vol.storageClassName,
    size: spec.storage.pvc?.size,
    claim,
    composed: composedAsClone(observed[volumeKey]),
    cluster: spec.cluster.name,
  });
  const waiting: string[] = [];
  const blocked: string[] = [];
  if (decision.kind === "wait") waiting.push(decision.message);
  if (decision.kind === "blocked") blocked.push(decision.message);
  if (decision.kind === "copy") {
    if (decision.waiting !== undefined) waiting.push(decision.waiting);
    if (decision.bridged && claim.exists === true) {
      // The Job runs beside the cache's volume; the source reaches it as a read-only volume on the same CSI handle.
      const bridge = planBridge({
        cluster: spec.cluster.name,
        providerConfigRef: pc,
        claimName: s.claimName,
        cacheNamespace: source.namespace,
        workloadNamespace: vol.namespace,
        accessMode: undefined,
        observed,
      });
      Object.assign(resources, bridge.resources);
      if (bridge.state.kind === "pending") waiting.push(bridge.state.message);
      if (bridge.state.kind === "blocked")
        blocked.push(
          `${bridge.state.message.split("; ")[0] ?? ""}; a copy from another namespace reads the source through a read-only volume on the same CSI handle: publish the artifact in a ReadWriteMany claim of a CSI or NFS volume, or in namespace ${vol.namespace}`,
        );
    }
  }
  return { decision, resources, waiting, blocked };
}

/**
 * The spec with the manifest digest its source names by itself (pvcClone's manifestDigest) in the pin, so the
 * first Job already verifies against it (--expect-manifest-digest) and a report of other bytes is drift.
 */
export function withSourcePin(spec: ModelCacheReplicaSpec, named: string | undefined): ModelCacheReplicaSpec {
  if (named === undefined) return spec;
  return { ...spec, pin: { resolvedRevision: spec.pin?.resolvedRevision ?? named, manifestDigest: spec.pin?.manifestDigest ?? named } };
}

/**
 * A clone that is not Bound while its verification waits: the one thing a person can act on is a CSI driver that
 * cannot clone, which leaves the claim Pending with the reason in its events.
 */
export function withCloneHint(d: PhaseDecision, bound: boolean, claim: string): PhaseDecision {
  if (bound || d.phase !== "Pending") return d;
  return {
    ...d,
    message: `${d.message}; the clone ${claim} is not Bound yet: a CSI driver that cannot clone leaves it Pending (its events say why), and ${FIELD}.method: Copy copies instead`,
  };
}
