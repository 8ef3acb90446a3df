// The volume that holds the bytes. PVC backend: a claim named by the fleet
// from the cache and the source identity (a new revision is a new claim).
// ExistingPVC: an observe-only check that the user's claim is there and Bound.
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { commonLabels } from "./job.ts";
import type { PolicyName } from "./objects.ts";

export type AccessMode = "ReadWriteMany" | "ReadOnlyMany" | "ReadWriteOnce";

/** Where the claim lives and whether this replica owns it. */
export interface VolumePlan {
  claimName: string;
  namespace: string;
  owned: boolean;
  /** Undefined for ExistingPVC (nothing is provisioned). */
  storageClassName: string | undefined;
  /** Where the class name came from, for messages. */
  storageClassFrom: string | undefined;
  accessMode: AccessMode | undefined;
  /** Hydrate into it, or only verify what it holds. */
  verifyOnly: boolean;
}

export function planVolume(spec: ModelCacheReplicaSpec): VolumePlan {
  const s = spec.storage;
  if (s.backend === "ExistingPVC" && s.existingPVC) {
    return {
      claimName: s.existingPVC.claimName,
      namespace: s.existingPVC.namespace ?? spec.namespace,
      owned: false,
      storageClassName: undefined,
      storageClassFrom: undefined,
      accessMode: undefined,
      verifyOnly: !s.existingPVC.hydrate,
    };
  }
  const fromCache = s.pvc?.storageClassName;
  return {
    claimName: spec.claimName,
    namespace: spec.namespace,
    owned: true,
    storageClassName: fromCache ?? spec.cluster.storageClassName,
    storageClassFrom:
      fromCache !== undefined
        ? "spec.storage.pvc.storageClassName"
        : spec.cluster.storageClassName !== undefined
          ? `cluster ${spec.cluster.name}'s storage class`
          : undefined,
    accessMode: s.pvc?.accessMode ?? "ReadWriteMany",
    verifyOnly: false,
  };
}

/** `dataSource`: the claim this one is a CSI clone of (a pvcClone source, clone.ts). */
export function persistentVolumeClaim(spec: ModelCacheReplicaSpec, plan: VolumePlan, dataSource?: JsonObject): JsonObject {
  const pvcSpec: JsonObject = {
    accessModes: [plan.accessMode ?? "ReadWriteMany"],
    resources: { requests: { storage: spec.storage.pvc?.size ?? "" } },
    volumeMode: "Filesystem",
  };
  if (dataSource !== undefined) pvcSpec["dataSource"] = dataSource;
  if (plan.storageClassName !== undefined) pvcSpec["storageClassName"] = plan.storageClassName;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: plan.claimName,
      namespace: plan.namespace,
      labels: { ...commonLabels("cache") },
      annotations: { "modelcache.dev/cache": spec.cacheRef.name, "modelcache.dev/mount-path": spec.mountPath },
    },
    spec: pvcSpec,
  };
}

/** The user's claim, read only: we never create, change or delete it. */
export function existingClaim(plan: VolumePlan): JsonObject {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: plan.claimName, namespace: plan.namespace } };
}

/**
 * What removing the replica does to the claim. Retain (the default) leaves
 * the claim and its bytes on the cluster; Delete removes the claim, and the
 * storage class's reclaim policy decides about the bytes.
 */
export function volumePolicy(spec: ModelCacheReplicaSpec): PolicyName {
  return spec.retention.whenUnselected === "Delete" ? "all" : "keep";
}

/** A claim is Bound: the one proof a volume is usable. */
export const BOUND_QUERY = "has(object.status) && has(object.status.phase) && object.status.phase == 'Bound'";
