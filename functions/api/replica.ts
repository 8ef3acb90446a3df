// ModelCacheReplica (modelcache.dev/v1alpha1): one per selected cluster,
// composed by a ModelCache. Its spec is everything the cluster level needs,
// resolved by the fleet level: the cluster's own part inline, the fleet-wide
// part (the replica contract) either inline or, as the fleet composes it, by
// hash from the ModelCache's status. Its status is what was observed there.
// This is the whole contract between the two halves of the function.
import { z } from "zod";
import { PermanentFailure } from "./hydration-report.ts";
import { HydratorImage } from "./image.ts";
import { Artifact } from "./artifact.ts";
import { DNS_LABEL, ObjectName } from "./k8s.ts";
import { CacheObservation, Eviction, Hydration, ReplicaPhase, Retention, Storage } from "./modelcache.ts";
import { MAX_NODES_PER_CLUSTER, NodeLocal, NodeRollup, NodeStatus, ReplicaNode } from "./node-local.ts";

export const CLOUDS = ["GKE", "EKS", "AKS", "Nebius", "Vultr", "Existing"] as const;
export const CSI_CAPABILITIES = ["SharedFilesystem", "ObjectStorageMount", "BlockDevice"] as const;

export const ReplicaCluster = z
  .object({
    name: z.string().min(1).max(253),
    // kind defaults (rather than being required) so the fleet level can leave it out: a replica's bytes are paid per cluster.
    providerConfigRef: z
      .object({ kind: z.enum(["ProviderConfig", "ClusterProviderConfig"]).default("ClusterProviderConfig"), name: z.string().min(1) })
      .strict(),
    cloud: z.enum(CLOUDS).describe("Where the cluster runs; Existing clusters are never modified beyond the cache itself."),
    storageClassName: z.string().max(253).optional().describe("The cluster's RWX storage class, if it has one."),
    csiDrivers: z.array(z.enum(CSI_CAPABILITIES)).max(3).optional().describe("Storage capabilities the cluster declares."),
    cloudCluster: z
      .object({
        name: z.string().min(1).max(100).describe("The cluster's name in its cloud (the EKS cluster name)."),
        region: z.string().min(1).max(64).optional(),
        providerConfigRef: z
          .object({ kind: z.enum(["ProviderConfig", "ClusterProviderConfig"]), name: z.string().min(1) })
          .strict()
          .describe("The cloud provider's config (e.g. provider-upjet-aws), used for driver add-ons."),
      })
      .strict()
      .optional()
      .describe("The cluster as its cloud knows it; needed only to compose a missing CSI driver add-on (EKS)."),
    nodes: z
      .array(ReplicaNode)
      .max(MAX_NODES_PER_CLUSTER)
      .optional()
      .describe("replication AllMatchingNodes: the cluster's selected nodes, sorted by name; each gets a verified copy on local disk (spec.nodeLocal)."),
  })
  .strict();
export type ReplicaCluster = z.infer<typeof ReplicaCluster>;

/** The contract's hash: the first 16 hex digits of the sha256 of its canonical JSON. */
export const CONTRACT_HASH = /^[0-9a-f]{16}$/;

const Namespace = z
  .string()
  .regex(DNS_LABEL)
  .max(63)
  .refine((n) => n !== "default", "must not be default")
  .describe("Namespace on the cluster that holds the volume and the Job.");
const ClaimName = ObjectName.describe("The volume's name: derived from the cache and the source identity, so a new revision gets a new volume.");
const ReplicaPin = z
  .object({ resolvedRevision: z.string(), manifestDigest: z.string().optional() })
  .strict()
  .describe("When set, the cluster must hold exactly these bytes.");
const Refetch = z.string().max(253).describe("A new value starts a new hydration.");
const PreviousClaimNames = z.array(ObjectName).max(8).describe("Claims of earlier revisions kept until this one is verified (informational).");

/**
 * The fleet-wide part of a replica's spec: the same for every cluster of a
 * ModelCache, so the fleet level writes it once (a ConfigMap
 * `<cache>-contract-<hash>` in the ModelCache's namespace) instead of into
 * each of thousands of replicas.
 */
const contractShape = {
  artifact: Artifact,
  storage: Storage,
  namespace: Namespace,
  claimName: ClaimName,
  mountPath: z.string(),
  pin: ReplicaPin.optional(),
  refetch: Refetch.optional(),
  hydration: Hydration.default({ activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8 }),
  hydratorImage: HydratorImage,
  retention: Retention.default({ whenUnselected: "Retain" }),
  previousClaimNames: PreviousClaimNames.optional(),
  eviction: Eviction.optional(),
  nodeLocal: NodeLocal.optional(),
};

/** Every contract field; a replica in the compact form carries none of them. */
export const CONTRACT_FIELDS = Object.keys(contractShape) as (keyof typeof contractShape)[];
/** The contract fields without a default: a replica in the full form must carry each. */
export const REQUIRED_CONTRACT_FIELDS = ["artifact", "storage", "namespace", "claimName", "mountPath", "hydratorImage"] as const;

export const ReplicaContractSpec = z.object(contractShape).strict();
export type ReplicaContractSpec = z.infer<typeof ReplicaContractSpec>;

const CacheRef = z.object({ name: ObjectName }).strict();

/**
 * The resolved spec the cluster level composes from: written in full on the
 * replica, or built from the ModelCache's contract plus cacheRef and cluster.
 */
export const ModelCacheReplicaSpec = z.object({ cacheRef: CacheRef, cluster: ReplicaCluster, ...contractShape }).strict();
export type ModelCacheReplicaSpec = z.infer<typeof ModelCacheReplicaSpec>;

const formsRule = (() => {
  const none = CONTRACT_FIELDS.map((k) => `!has(self.${k})`).join(" && ");
  const all = REQUIRED_CONTRACT_FIELDS.map((k) => `has(self.${k})`).join(" && ");
  return {
    rule: `has(self.contractHash) ? ${none} : ${all}`,
    message: `either contractHash alone (the compact form) or the full spec (${REQUIRED_CONTRACT_FIELDS.join(", ")}) must be set, not both`,
  };
})();

/**
 * A ModelCacheReplica's spec as written, in either form: compact (cacheRef,
 * cluster, contractHash: what the fleet level composes) or full (every
 * contract field inline). No top-level defaults here: the API server would
 * otherwise fill hydration and retention into a compact spec.
 */
export const ModelCacheReplicaSpecForms = z
  .object({
    cacheRef: CacheRef,
    cluster: ReplicaCluster,
    contractHash: z
      .string()
      .regex(CONTRACT_HASH, "must be 16 lowercase hex digits")
      .optional()
      .describe(
        "The compact form: the rest of the spec is the replica contract with this hash, data contract.json of the ConfigMap <cacheRef.name>-contract-<hash> in this namespace.",
      ),
    artifact: Artifact.optional(),
    storage: Storage.optional(),
    namespace: Namespace.optional(),
    claimName: ClaimName.optional(),
    mountPath: z.string().optional(),
    pin: ReplicaPin.optional(),
    refetch: Refetch.optional(),
    hydration: Hydration.optional(),
    hydratorImage: HydratorImage.optional(),
    retention: Retention.optional(),
    previousClaimNames: PreviousClaimNames.optional(),
    eviction: Eviction.optional(),
    nodeLocal: NodeLocal.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const written = CONTRACT_FIELDS.filter((k) => s[k] !== undefined);
    if (s.contractHash !== undefined) {
      if (written.length > 0) ctx.addIssue({ code: "custom", message: `${formsRule.message}; contractHash and ${written.join(", ")} are` });
      return;
    }
    const missing = REQUIRED_CONTRACT_FIELDS.filter((k) => s[k] === undefined);
    if (missing.length > 0)
      ctx.addIssue({ code: "custom", message: `${formsRule.message}; ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing` });
  })
  .meta({ "x-kubernetes-validations": [formsRule] });
export type ModelCacheReplicaSpecForms = z.infer<typeof ModelCacheReplicaSpecForms>;

export const ModelCacheReplicaStatus = z.object({
  phase: ReplicaPhase.optional(),
  ...CacheObservation,
  attempts: z.number().int().optional(),
  lastError: z.string().optional().describe("The last error observed (the Job's report or condition), credential shapes redacted and at most 512 characters."),
  permanentFailure: PermanentFailure.optional().describe(
    "Set when the last attempt failed in a way retrying cannot fix, as the hydrator reported: Source (the source or its credentials: authentication refused, not found, a digest the source serves that does not match) or Destination (the volume: full, or holding other files). No attempt starts until a new refetch value; the Hydrated condition's reason is PermanentFailure.",
  ),
  observedRefetch: z.string().optional(),
  /** The hydration Job of the current attempt, for `kubectl describe` on the cluster. */
  jobName: z.string().optional(),
  /** The cluster holds bytes other than the pinned manifest. */
  drift: z.boolean().optional(),
  oldVolumes: z
    .array(
      z.object({
        claimName: z.string(),
        mounts: z.number().int().optional().describe("Workloads that mount it, as the serving step records them; absent while the records are not read yet."),
        unusedSince: z.string().optional().describe("When the last of them stopped mounting it (RFC 3339)."),
        releaseAt: z.string().optional().describe("When it is released if nobody mounts it again (spec.eviction.ttl after unusedSince)."),
        message: z.string(),
      }),
    )
    .max(16)
    .optional()
    .describe("Volumes of earlier revisions still on the cluster, and why."),
  sharedPhase: ReplicaPhase.optional().describe(
    "replication AllMatchingNodes: the phase of the cluster's shared copy, which the nodes copy from (phase counts the nodes too); it alone can pin the fleet. With seed Source (no shared copy): the first verified node's copy, which pins the rest.",
  ),
  seed: z
    .enum(["Source"])
    .optional()
    .describe(
      "replication AllMatchingNodes: Source when the cluster has no shared copy and each node hydrates from the source (spec.nodeLocal.seed); unset when the nodes copy the shared copy.",
    ),
  nodes: z
    .array(NodeStatus)
    .max(MAX_NODES_PER_CLUSTER * 2)
    .optional()
    .describe("replication AllMatchingNodes: each node's copy on local disk."),
  nodeSummary: NodeRollup.optional().describe("replication AllMatchingNodes: the nodes in one line (what the ModelCache lists for this cluster)."),
});
export type ModelCacheReplicaStatus = z.infer<typeof ModelCacheReplicaStatus>;
