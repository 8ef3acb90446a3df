// CSI drivers: which capability the volume needs, which driver provides it on
// each cloud, and what, if anything, can be composed to enable it. Several
// caches on one cluster share one driver; none of them ever removes it.
import type { ModelCacheReplicaSpec, ReplicaCluster } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { AccessMode } from "./volume.ts";

export type Capability = "SharedFilesystem" | "ObjectStorageMount" | "BlockDevice";
export type Cloud = ReplicaCluster["cloud"];

export interface DriverMapping {
  /** The CSIDriver object the driver registers on the cluster. */
  driver: string;
  /** A resource the function can compose to install it (EKS add-ons). */
  addon?: string;
  /** Where no separate resource exists: exactly what the platform must enable. */
  enable?: string;
}

/** The mapping table (docs/design.md repeats it). */
export const CSI_MAP: Partial<Record<Cloud, Record<Capability, DriverMapping>>> = {
  EKS: {
    SharedFilesystem: { driver: "efs.csi.aws.com", addon: "aws-efs-csi-driver" },
    ObjectStorageMount: { driver: "s3.csi.aws.com", addon: "aws-mountpoint-s3-csi-driver" },
    BlockDevice: { driver: "ebs.csi.aws.com", addon: "aws-ebs-csi-driver" },
  },
  GKE: {
    SharedFilesystem: {
      driver: "filestore.csi.storage.gke.io",
      enable:
        "the Filestore CSI driver add-on (addonsConfig.gcpFilestoreCsiDriverConfig.enabled: true on the GKE cluster, or gcloud container clusters update CLUSTER --update-addons=GcpFilestoreCsiDriver=ENABLED)",
    },
    ObjectStorageMount: {
      driver: "gcsfuse.csi.storage.gke.io",
      enable: "the Cloud Storage FUSE CSI driver add-on (addonsConfig.gcsFuseCsiDriverConfig.enabled: true on the GKE cluster)",
    },
    BlockDevice: {
      driver: "pd.csi.storage.gke.io",
      enable: "the Compute Engine persistent disk CSI driver add-on (addonsConfig.gcePersistentDiskCsiDriverConfig.enabled: true on the GKE cluster)",
    },
  },
  AKS: {
    SharedFilesystem: {
      driver: "file.csi.azure.com",
      enable: "the Azure Files CSI driver (storageProfile.fileDriver.enabled: true on the AKS cluster, or az aks update --enable-file-driver)",
    },
    ObjectStorageMount: {
      driver: "blob.csi.azure.com",
      enable: "the Azure Blob CSI driver (storageProfile.blobDriver.enabled: true on the AKS cluster, or az aks update --enable-blob-driver)",
    },
    BlockDevice: {
      driver: "disk.csi.azure.com",
      enable: "the Azure Disk CSI driver (storageProfile.diskDriver.enabled: true on the AKS cluster, or az aks update --enable-disk-driver)",
    },
  },
};

export function capabilityFor(mode: AccessMode): Capability {
  return mode === "ReadWriteOnce" ? "BlockDevice" : "SharedFilesystem";
}

export type DriverState = "present" | "missing" | "unknown";

/** What the cluster level should do about the driver. */
export type CsiDecision =
  | { kind: "none" } // nothing to check (ExistingPVC)
  | { kind: "trust"; capability: Capability } // declared on a cloud we have no mapping for: the class is the proof
  | { kind: "observe"; capability: Capability; mapping: DriverMapping; addon?: JsonObject }
  | { kind: "blocked"; capability: Capability; message: string; observe?: DriverMapping };

export function decideCsi(spec: ModelCacheReplicaSpec, mode: AccessMode | undefined, driver: DriverState, addonComposed: boolean): CsiDecision {
  if (mode === undefined) return { kind: "none" };
  const c = spec.cluster;
  const capability = capabilityFor(mode);
  const declared = (c.csiDrivers ?? []).includes(capability);
  const mapping = CSI_MAP[c.cloud]?.[capability];
  const need = `a ${mode} volume needs the ${capability} capability`;
  if (mapping === undefined) {
    // Existing clusters (and clouds without a mapping) are never modified: the declaration is all we have.
    if (declared) return { kind: "trust", capability };
    return {
      kind: "blocked",
      capability,
      message: `cluster ${c.name} (${c.cloud}) does not declare ${capability} in its csiDrivers and nothing is installed on ${c.cloud} clusters: ${need}; declare it once the cluster has a driver for it, or use a storage class and access mode the cluster supports`,
    };
  }
  // An add-on we composed stays composed: dropping it from the desired state is not ours to decide.
  if (driver !== "missing" && !addonComposed) return { kind: "observe", capability, mapping };
  // The driver is missing (or we already composed its add-on: keep composing it).
  if (!declared && !addonComposed)
    return {
      kind: "blocked",
      capability,
      observe: mapping,
      message: `cluster ${c.name} has no ${mapping.driver} CSI driver and does not declare ${capability} in its csiDrivers: ${need}; declare it to let the platform enable the driver`,
    };
  if (mapping.addon !== undefined) {
    if (c.cloudCluster === undefined)
      return {
        kind: "blocked",
        capability,
        observe: mapping,
        message: `cluster ${c.name} has no ${mapping.driver} CSI driver and the replica has no spec.cluster.cloudCluster (EKS name, region, AWS provider config) to install the ${mapping.addon} add-on with; install the add-on or set cloudCluster`,
      };
    return { kind: "observe", capability, mapping, addon: eksAddon(c, mapping.addon) };
  }
  return {
    kind: "blocked",
    capability,
    observe: mapping,
    message: `cluster ${c.name} (${c.cloud}) has no ${mapping.driver} CSI driver: enable ${mapping.enable ?? "it"}`,
  };
}

/**
 * The EKS add-on as a provider-upjet-aws namespaced managed resource. Every
 * cache on the cluster composes its own Addon for the same external name
 * (the add-on name on the cluster): they agree on its state, and with no
 * `Delete` in the management policies removing any of them leaves the add-on.
 */
export function eksAddon(c: ReplicaCluster, addon: string): JsonObject {
  const cc = c.cloudCluster;
  const forProvider: JsonObject = { clusterName: cc?.name ?? c.name };
  if (cc?.region !== undefined) forProvider["region"] = cc.region;
  return {
    apiVersion: "eks.aws.m.upbound.io/v1beta1",
    kind: "Addon",
    metadata: { annotations: { "crossplane.io/external-name": addon }, labels: { "modelcache.dev/shared": "true" } },
    spec: {
      managementPolicies: ["Observe", "Create", "Update", "LateInitialize"],
      providerConfigRef: { kind: cc?.providerConfigRef.kind ?? "ClusterProviderConfig", name: cc?.providerConfigRef.name ?? "default" },
      forProvider,
    },
  };
}

export function csiDriverRef(driver: string): JsonObject {
  return { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: driver } };
}

export function storageClassRef(name: string): JsonObject {
  return { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name } };
}
