// A cache's volume seen from another namespace on the same cluster, without
// copying a byte: a statically provisioned, read-only PersistentVolume with
// the same CSI volume handle (or NFS export) as the cache's, Retain so that
// deleting it never touches the data, pre-bound to a claim in the workload's
// namespace. That claim has a name of its own (bridgeClaimName), never the
// cache claim's: the Object that composes it would adopt, and on deletion
// delete, a tenant's claim that happened to have the name. It reads the cache's claim and volume through
// Observe-only Objects; where the volume cannot be shared this way (RWO, a
// driver with no static provisioning) it says so with the fix.
import type { JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";
import { observe, wrapObject, type ProviderConfigRef } from "../replica/objects.ts";
import { field, isObject, str } from "../../common/json.ts";
import { digest, label } from "../replica/names.ts";
import { BOUND_QUERY } from "../replica/volume.ts";

export interface BridgeInput {
  cluster: string;
  providerConfigRef: ProviderConfigRef;
  /** The cache's claim and its namespace on the cluster. */
  claimName: string;
  cacheNamespace: string;
  workloadNamespace: string;
  /** The cache's declared access mode (spec.storage.pvc.accessMode), when known. */
  accessMode: string | undefined;
  observed: Record<string, ResourceState>;
}

export type BridgeState = { kind: "ready" } | { kind: "pending"; message: string } | { kind: "blocked"; message: string };

export interface Bridge {
  state: BridgeState;
  /** Desired resources by key. */
  resources: Record<string, ResourceState>;
}

export const BRIDGE_KEY_PREFIX = "modelcache-bridge-";

/** Keys of one bridge: one per cluster, claim and workload namespace, shared by every workload there. */
export function bridgeKeys(
  cluster: string,
  cacheNamespace: string,
  claimName: string,
  workloadNamespace: string,
): { sourceClaim: string; sourceVolume: string; volume: string; claim: string } {
  const id = digest(cluster, cacheNamespace, claimName, workloadNamespace);
  return {
    sourceClaim: `${BRIDGE_KEY_PREFIX}${id}-source-claim`,
    sourceVolume: `${BRIDGE_KEY_PREFIX}${id}-source-volume`,
    volume: `${BRIDGE_KEY_PREFIX}${id}-volume`,
    claim: `${BRIDGE_KEY_PREFIX}${id}-claim`,
  };
}

/**
 * The name of the read-only claim in `workloadNamespace` and of its PersistentVolume (cluster-scoped, so it carries
 * both namespaces): the claim's own name with "-ro-" and a digest, which no tenant writes by accident and none can
 * aim at another's claim.
 */
export function bridgeClaimName(claimName: string, cacheNamespace: string, workloadNamespace: string): string {
  return label(claimName, "ro", cacheNamespace, workloadNamespace, claimName);
}

/** The claim a workload (or Job) in `workloadNamespace` mounts to read `cacheNamespace/claimName`. */
export function claimSeenFrom(claimName: string, cacheNamespace: string, workloadNamespace: string): string {
  return cacheNamespace === "" || cacheNamespace === workloadNamespace ? claimName : bridgeClaimName(claimName, cacheNamespace, workloadNamespace);
}

const SHAREABLE = new Set(["ReadWriteMany", "ReadOnlyMany"]);

function rs(resource: JsonObject, ready: boolean): ResourceState {
  return { resource, connectionDetails: {}, ready: ready ? "True" : "False" };
}

/** The source the bridged volume points at: the same CSI handle or NFS export, read-only. */
function sharedSource(pvSpec: JsonObject): JsonObject | undefined {
  const csi = pvSpec["csi"];
  if (isObject(csi) && typeof csi["driver"] === "string" && typeof csi["volumeHandle"] === "string") {
    const out: JsonObject = { driver: csi["driver"], volumeHandle: csi["volumeHandle"], readOnly: true };
    for (const k of ["volumeAttributes", "fsType", "nodeStageSecretRef", "nodePublishSecretRef"] as const)
      if (csi[k] !== undefined) out[k] = csi[k] as JsonValue;
    return { csi: out };
  }
  const nfs = pvSpec["nfs"];
  if (isObject(nfs) && typeof nfs["server"] === "string" && typeof nfs["path"] === "string")
    return { nfs: { server: nfs["server"], path: nfs["path"], readOnly: true } };
  return undefined;
}

export function planBridge(b: BridgeInput): Bridge {
  const keys = bridgeKeys(b.cluster, b.cacheNamespace, b.claimName, b.workloadNamespace);
  const where = `claim ${b.cacheNamespace}/${b.claimName} on cluster ${b.cluster}`;
  const fix = `run the workload in namespace ${b.cacheNamespace}, or`;
  if (b.accessMode !== undefined && !SHAREABLE.has(b.accessMode))
    return {
      state: {
        kind: "blocked",
        message: `${where} is ${b.accessMode}: a single-node volume cannot be mounted from namespace ${b.workloadNamespace}; ${fix} set the ModelCache's spec.storage.pvc.accessMode to ReadWriteMany`,
      },
      resources: {},
    };
  const resources: Record<string, ResourceState> = {};
  const srcClaimObs = observe(b.observed[keys.sourceClaim]);
  resources[keys.sourceClaim] = rs(
    wrapObject({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: b.claimName, namespace: b.cacheNamespace } }, b.providerConfigRef, {
      policy: "observe",
    }),
    srcClaimObs.exists === true,
  );
  const claimSpec = field(srcClaimObs.manifest, "spec");
  const volumeName = str(field(claimSpec, "volumeName"));
  if (srcClaimObs.exists === false) return { state: { kind: "pending", message: `${where} does not exist yet` }, resources };
  if (!isObject(claimSpec) || volumeName === undefined)
    return { state: { kind: "pending", message: `reading ${where} to share it read-only with namespace ${b.workloadNamespace}` }, resources };
  const modes = Array.isArray(claimSpec["accessModes"]) ? claimSpec["accessModes"].filter((m): m is string => typeof m === "string") : [];
  if (!modes.some((m) => SHAREABLE.has(m)))
    return {
      state: {
        kind: "blocked",
        message: `${where} is ${modes.join(", ") || "of no access mode"}: a single-node volume cannot be mounted from namespace ${b.workloadNamespace}; ${fix} set the ModelCache's spec.storage.pvc.accessMode to ReadWriteMany`,
      },
      resources,
    };

  const srcVolObs = observe(b.observed[keys.sourceVolume]);
  resources[keys.sourceVolume] = rs(
    wrapObject({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: volumeName } }, b.providerConfigRef, { policy: "observe" }),
    srcVolObs.exists === true,
  );
  const pvSpec = field(srcVolObs.manifest, "spec");
  if (!isObject(pvSpec)) return { state: { kind: "pending", message: `reading PersistentVolume ${volumeName} behind ${where}` }, resources };
  const source = sharedSource(pvSpec);
  if (source === undefined)
    return {
      state: {
        kind: "blocked",
        message: `PersistentVolume ${volumeName} behind ${where} is neither a CSI nor an NFS volume, so no second read-only volume can point at it; ${fix} use a storage class whose CSI driver supports static provisioning (EFS, Filestore, Azure Files, NFS)`,
      },
      resources,
    };
  const capacity = field(pvSpec, "capacity", "storage") ?? field(claimSpec, "resources", "requests", "storage") ?? "1Gi";
  const name = bridgeClaimName(b.claimName, b.cacheNamespace, b.workloadNamespace);
  const pv: JsonObject = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, labels: { "modelcache.dev/bridged-from": volumeName.slice(0, 63).replace(/[^A-Za-z0-9]+$/, "") } },
    spec: {
      capacity: { storage: capacity },
      accessModes: ["ReadOnlyMany"],
      // Retain: deleting this volume (the bridge is no longer needed) never deletes the cache's data.
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      ...(Array.isArray(pvSpec["mountOptions"]) ? { mountOptions: pvSpec["mountOptions"] } : {}),
      ...source,
      claimRef: { namespace: b.workloadNamespace, name },
    },
  };
  const pvObs = observe(b.observed[keys.volume]);
  resources[keys.volume] = rs(wrapObject(pv, b.providerConfigRef, { policy: "all" }), pvObs.ready);
  const pvc: JsonObject = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: b.workloadNamespace },
    spec: { accessModes: ["ReadOnlyMany"], storageClassName: "", volumeName: name, resources: { requests: { storage: capacity } } },
  };
  const pvcObs = observe(b.observed[keys.claim]);
  const bound = str(field(pvcObs.manifest, "status", "phase")) === "Bound";
  resources[keys.claim] = rs(wrapObject(pvc, b.providerConfigRef, { policy: "all", readyWhen: BOUND_QUERY }), bound);
  if (!bound)
    return {
      state: {
        kind: "pending",
        message: `waiting for the read-only claim ${b.workloadNamespace}/${name} (the same ${source["csi"] ? "CSI volume handle" : "NFS export"} as ${where}) to be Bound`,
      },
      resources,
    };
  return { state: { kind: "ready" }, resources };
}
