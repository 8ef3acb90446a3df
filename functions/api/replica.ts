// ModelCacheReplica (modelcache.dev/v1alpha1): one per selected cluster,
// composed by a ModelCache. Its spec is everything the cluster level needs,
// resolved by the fleet level; its status is what was observed there. This is
// the whole contract between the two halves of the function.
import { z } from "zod";
import { Artifact } from "./artifact.ts";
import { DNS_LABEL, ObjectName } from "./k8s.ts";
import { Hydration, ReplicaPhase, Retention, Storage } from "./modelcache.ts";

export const CLOUDS = ["GKE", "EKS", "AKS", "Nebius", "Vultr", "Existing"] as const;
export const CSI_CAPABILITIES = ["SharedFilesystem", "ObjectStorageMount", "BlockDevice"] as const;

export const ReplicaCluster = z
  .object({
    name: z.string().min(1).max(253),
    // kind defaults (rather than being required) so the fleet level can leave it out: a replica's bytes are paid per cluster.
    providerConfigRef: z.object({ kind: z.enum(["ProviderConfig", "ClusterProviderConfig"]).default("ClusterProviderConfig"), name: z.string().min(1) }).strict(),
    cloud: z.enum(CLOUDS).describe("Where the cluster runs; Existing clusters are never modified beyond the cache itself."),
    storageClassName: z.string().max(253).optional().describe("The cluster's RWX storage class, if it has one."),
    csiDrivers: z.array(z.enum(CSI_CAPABILITIES)).max(3).optional().describe("Storage capabilities the cluster declares."),
    cloudCluster: z
      .object({
        name: z.string().min(1).max(100).describe("The cluster's name in its cloud (the EKS cluster name)."),
        region: z.string().min(1).max(64).optional(),
        providerConfigRef: z.object({ kind: z.enum(["ProviderConfig", "ClusterProviderConfig"]), name: z.string().min(1) }).strict()
          .describe("The cloud provider's config (e.g. provider-upjet-aws), used for driver add-ons."),
      })
      .strict()
      .optional()
      .describe("The cluster as its cloud knows it; needed only to compose a missing CSI driver add-on (EKS)."),
  })
  .strict();
export type ReplicaCluster = z.infer<typeof ReplicaCluster>;

export const ModelCacheReplicaSpec = z
  .object({
    cacheRef: z.object({ name: ObjectName }).strict(),
    cluster: ReplicaCluster,
    artifact: Artifact,
    storage: Storage,
    namespace: z.string().regex(DNS_LABEL).max(63).refine((n) => n !== "default", "must not be default")
      .describe("Namespace on the cluster that holds the volume and the Job."),
    claimName: ObjectName.describe("The volume's name: derived from the cache and the source identity, so a new revision gets a new volume."),
    mountPath: z.string(),
    pin: z.object({ resolvedRevision: z.string(), manifestDigest: z.string().optional() }).strict().optional()
      .describe("When set, the cluster must hold exactly these bytes."),
    refetch: z.string().max(253).optional().describe("A new value starts a new hydration."),
    hydration: Hydration.default({ activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8 }),
    hydratorImage: z.string().min(1),
    retention: Retention.default({ whenUnselected: "Retain" }),
    /** Claims of earlier revisions kept until this one is verified. */
    previousClaimNames: z.array(ObjectName).max(8).optional(),
  })
  .strict();
export type ModelCacheReplicaSpec = z.infer<typeof ModelCacheReplicaSpec>;

export const ModelCacheReplicaStatus = z.object({
  phase: ReplicaPhase.optional(),
  bytesDone: z.number().int().optional(),
  bytesTotal: z.number().int().optional(),
  bytesPerSecond: z.number().optional(),
  etaSeconds: z.number().int().optional(),
  resolvedRevision: z.string().optional(),
  manifestDigest: z.string().optional(),
  claimName: z.string().optional(),
  namespace: z.string().optional(),
  mountPath: z.string().optional(),
  message: z.string().optional(),
  attempts: z.number().int().optional(),
  lastError: z.string().optional(),
  observedRefetch: z.string().optional(),
  /** The hydration Job of the current attempt, for `kubectl describe` on the cluster. */
  jobName: z.string().optional(),
  /** The cluster holds bytes other than the pinned manifest. */
  drift: z.boolean().optional(),
});
export type ModelCacheReplicaStatus = z.infer<typeof ModelCacheReplicaStatus>;
