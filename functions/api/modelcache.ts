// ModelCache (modelcache.dev/v1alpha1): the fleet-level intent a platform
// engineer writes, and the status the function reports back. The XRD under
// apis/modelcaches is generated from these schemas (npm run gen:apis).
import { z } from "zod";
import { Artifact } from "./artifact.ts";
import { CustomStorage } from "./custom-backend.ts";
import { HydrationPhase } from "./hydration-report.ts";
import { LabelMap, LabelSelectorRequirement, ObjectName, Quantity, ResourceRequirements, Toleration } from "./k8s.ts";
import { NodeLocal, NodeRollup, NodeSelector } from "./node-local.ts";

/** Annotation on a ModelCache: a new value starts a new hydration everywhere. */
export const REFETCH_ANNOTATION = "modelcache.dev/refetch";
/** Annotation on a ModelCache: "true" lists every cluster not selected, with the reason. */
export const EXPLAIN_ANNOTATION = "modelcache.dev/explain-selection";

export const Storage = z
  .object({
    backend: z.enum(["PVC", "ExistingPVC", "Custom"]).default("PVC"),
    pvc: z
      .object({
        size: Quantity.describe("Capacity to request; leave headroom over the artifact size."),
        storageClassName: z.string().max(253).optional().describe("Overrides the cluster's RWX storage class."),
        accessMode: z.enum(["ReadWriteMany", "ReadOnlyMany", "ReadWriteOnce"]).default("ReadWriteMany"),
      })
      .strict()
      .optional()
      .describe("Required when backend is PVC."),
    existingPVC: z
      .object({
        claimName: ObjectName,
        namespace: ObjectName.optional().describe("Namespace of the claim on each cluster; defaults to the cache namespace."),
        hydrate: z.boolean().default(true).describe("Hydrate into the claim; false only verifies what it already holds."),
      })
      .strict()
      .optional()
      .describe("Required when backend is ExistingPVC."),
    custom: CustomStorage.optional().describe(
      "Required when backend is Custom: a third-party substrate the platform allows (docs/api.md, the Custom backend).",
    ),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.backend === "Custom" && !s.custom) ctx.addIssue({ code: "custom", path: ["custom"], message: "is required when backend is Custom" });
    if (s.backend === "PVC" && !s.pvc) ctx.addIssue({ code: "custom", path: ["pvc"], message: "is required when backend is PVC" });
    if (s.backend === "ExistingPVC" && !s.existingPVC)
      ctx.addIssue({ code: "custom", path: ["existingPVC"], message: "is required when backend is ExistingPVC" });
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "self.backend != 'PVC' || has(self.pvc)", message: "pvc is required when backend is PVC" },
      { rule: "self.backend != 'ExistingPVC' || has(self.existingPVC)", message: "existingPVC is required when backend is ExistingPVC" },
      { rule: "self.backend != 'Custom' || has(self.custom)", message: "custom is required when backend is Custom" },
    ],
  });
export type Storage = z.infer<typeof Storage>;

export const ClusterSelector = z
  .object({
    matchLabels: LabelMap.optional(),
    matchExpressions: z.array(LabelSelectorRequirement).max(64).optional(),
    cel: z
      .string()
      .max(10240)
      .optional()
      .describe("A CEL expression over `cluster` (name, labels, pools, devices with DRA attributes and capacity); must return bool."),
  })
  .strict();
export type ClusterSelector = z.infer<typeof ClusterSelector>;

export const Hydration = z
  .object({
    resources: ResourceRequirements.optional().describe("Requests and limits of the hydration Job; memory stays bounded whatever the model size."),
    activeDeadlineSeconds: z.number().int().min(60).max(604800).default(21600),
    backoffLimit: z.number().int().min(0).max(20).default(4),
    ttlSecondsAfterFinished: z.number().int().min(0).max(2592000).default(86400),
    concurrency: z.number().int().min(1).max(64).default(8).describe("Parallel downloads (files and ranged chunks)."),
    nodeSelector: LabelMap.optional(),
    tolerations: z.array(Toleration).max(32).optional(),
  })
  .strict();
export type Hydration = z.infer<typeof Hydration>;

export const Retention = z
  .object({
    whenUnselected: z
      .enum(["Retain", "Delete"])
      .default("Retain")
      .describe("A cluster that stops matching keeps its replica and data (Retain) or has them removed (Delete)."),
  })
  .strict();

/** A duration as Kubernetes and Go write it, in whole hours, minutes and seconds: 168h, 90m, 1h30m. */
export const Duration = z
  .string()
  .max(32)
  .regex(/^([0-9]+h)?([0-9]+m)?([0-9]+s)?$/, "must be a duration such as 168h, 90m or 1h30m")
  .refine((d) => d !== "", "must be a duration such as 168h, 90m or 1h30m");

/** Seconds in a Duration. */
export function durationSeconds(d: string): number {
  const m = /^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/.exec(d);
  return m === null ? 0 : Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export const Eviction = z
  .object({
    ttl: Duration.describe(
      "How long a cluster keeps a Ready copy nobody uses (no workload mounts or waits for it, as the serving step records), and a volume of an earlier revision nobody mounts, before it is released; never while used.",
    ),
  })
  .strict();
export type Eviction = z.infer<typeof Eviction>;

export const ModelCacheSpec = z
  .object({
    artifact: Artifact,
    storage: Storage,
    mountPath: z
      .string()
      .regex(/^\/[^\0]*$/, "must be an absolute path")
      .max(1024)
      .optional()
      .describe("Where serving pods mount the cache (read-only); defaults to /models/<name>. Published in status."),
    replication: z
      .enum(["AllMatchingClusters", "AllMatchingNodes"])
      .default("AllMatchingClusters")
      .describe(
        "AllMatchingClusters: one shared volume per selected cluster. AllMatchingNodes: also a verified copy on the local disk of each selected node (spec.nodeSelector, spec.nodeLocal), seeded from the cluster's copy, or from the source where spec.nodeLocal.seed and the platform allow.",
      ),
    clusterSelector: ClusterSelector.default({}),
    nodeSelector: NodeSelector.optional(),
    nodeLocal: NodeLocal.optional(),
    retention: Retention.default({ whenUnselected: "Retain" }),
    eviction: Eviction.optional().describe(
      "Use keeps a copy, disuse lets it go. Without it a copy is never released for disuse, and an earlier revision's volume goes once the new one is verified and no workload mounts it.",
    ),
    hydration: Hydration.default({ activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8 }),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.replication === "AllMatchingNodes" && s.nodeLocal === undefined)
      ctx.addIssue({ code: "custom", path: ["nodeLocal"], message: "is required when replication is AllMatchingNodes" });
    if (s.replication === "AllMatchingNodes" && s.artifact.layout === "HuggingFaceCache")
      ctx.addIssue({
        code: "custom",
        path: ["artifact", "layout"],
        message: "must be Flat when replication is AllMatchingNodes: a node copies the cluster's copy as a verified Flat bundle",
      });
    if (s.replication === "AllMatchingNodes" && s.storage.pvc?.accessMode === "ReadWriteOnce")
      ctx.addIssue({
        code: "custom",
        path: ["storage", "pvc", "accessMode"],
        message: "must be ReadWriteMany or ReadOnlyMany when replication is AllMatchingNodes: every node's Job reads the cluster's shared copy at once",
      });
    if (s.replication === "AllMatchingNodes" && s.storage.backend === "Custom")
      ctx.addIssue({
        code: "custom",
        path: ["replication"],
        message: "AllMatchingNodes seeds each node from the function's own cluster copy: not with storage.backend Custom, whose substrate places the bytes",
      });
    if (s.replication === "AllMatchingNodes" && s.nodeLocal?.seed === "Source" && s.storage.backend === "ExistingPVC")
      ctx.addIssue({
        code: "custom",
        path: ["nodeLocal", "seed"],
        message: "must not be Source with storage.backend ExistingPVC: the claim would be ignored; use SharedCopy to seed the nodes from it",
      });
    if (s.replication !== "AllMatchingNodes")
      for (const k of ["nodeSelector", "nodeLocal"] as const)
        if (s[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: "is only allowed when replication is AllMatchingNodes" });
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "self.replication != 'AllMatchingNodes' || has(self.nodeLocal)", message: "nodeLocal is required when replication is AllMatchingNodes" },
      {
        rule: "self.replication != 'AllMatchingNodes' || !has(self.artifact.layout) || self.artifact.layout != 'HuggingFaceCache'",
        message: "artifact.layout must be Flat when replication is AllMatchingNodes",
      },
      {
        rule: "self.replication != 'AllMatchingNodes' || !has(self.storage.pvc) || !has(self.storage.pvc.accessMode) || self.storage.pvc.accessMode != 'ReadWriteOnce'",
        message: "storage.pvc.accessMode must be ReadWriteMany or ReadOnlyMany when replication is AllMatchingNodes",
      },
      {
        rule: "self.replication != 'AllMatchingNodes' || self.storage.backend != 'Custom'",
        message: "replication AllMatchingNodes is not allowed with storage.backend Custom (the substrate places the bytes)",
      },
      {
        rule: "!has(self.nodeLocal) || !has(self.nodeLocal.seed) || self.nodeLocal.seed != 'Source' || self.storage.backend != 'ExistingPVC'",
        message: "nodeLocal.seed must not be Source with storage.backend ExistingPVC (use SharedCopy to seed the nodes from that claim)",
      },
      {
        rule: "self.replication == 'AllMatchingNodes' || (!has(self.nodeSelector) && !has(self.nodeLocal))",
        message: "nodeSelector and nodeLocal are only allowed when replication is AllMatchingNodes",
      },
    ],
  });
export type ModelCacheSpec = z.infer<typeof ModelCacheSpec>;

export const ReplicaPhase = z.enum(["Pending", "Hydrating", "Verifying", "Ready", "Failed", "Blocked"]);
export type ReplicaPhase = z.infer<typeof ReplicaPhase>;

/** What a cluster's cache shows: progress, the bytes it holds, where to mount them. The fleet repeats it per cluster. */
export const CacheObservation = {
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
};

/** What one cluster holds, as the fleet reports it. */
export const ClusterStatus = z.object({
  name: z.string(),
  phase: ReplicaPhase,
  ...CacheObservation,
  drift: z.boolean().optional().describe("The cluster holds bytes other than the pinned manifest."),
  selected: z.boolean().optional().describe("False for a retained cluster that no longer matches the selector."),
  unusedSince: z.string().optional().describe("With spec.eviction: since when no workload has used the Ready copy (RFC 3339)."),
  releaseAt: z.string().optional().describe("With spec.eviction: when the copy is released if nobody uses it (or, once released, when it was)."),
  released: z.boolean().optional().describe("The copy was released after spec.eviction.ttl unused; a workload asking for it brings it back."),
  oldVolumes: z
    .array(z.object({ claimName: z.string(), mounts: z.number().int().optional(), releaseAt: z.string().optional() }))
    .max(16)
    .optional()
    .describe(
      "Volumes of earlier revisions still on the cluster after the current one was verified: how many workloads mount each, and when it is released if nobody does (spec.eviction).",
    ),
  nodes: NodeRollup.optional().describe(
    "replication AllMatchingNodes: the cluster's node copies in one line; each node's is in its ModelCacheReplica's status.nodes.",
  ),
  seed: z
    .enum(["Source"])
    .optional()
    .describe(
      "replication AllMatchingNodes: Source when the cluster has no shared copy and each node hydrates from the source (its replica's status.seed): claimName then names no claim on the cluster, only the node claims' base, so serving never mounts it.",
    ),
});
export type ClusterStatus = z.infer<typeof ClusterStatus>;

export const Pin = z.object({
  resolvedRevision: z.string(),
  manifestDigest: z.string().optional(),
  pinnedFrom: z.string().describe("`source` when the reference was immutable, else the cluster that verified first."),
  identity: z.string().optional().describe("Short hash of the source identity this pin belongs to; a new identity (e.g. a changed revision) starts a new pin."),
});
export type Pin = z.infer<typeof Pin>;

/**
 * Which replica contract the fleet composed last: the spec fields of a
 * ModelCacheReplica other than cacheRef and cluster (functions/api/replica.ts,
 * ReplicaContractSpec) live in a ConfigMap `<cache>-contract-<hash>` in the
 * ModelCache's namespace, which each compact replica reads by name. Only the
 * hash is here: the status is for people, and a replica never reads it.
 */
export const ReplicaContract = z.object({
  hash: z
    .string()
    .describe(
      "First 16 hex digits of the sha256 of the contract spec's canonical JSON (keys sorted); replicas name it as spec.contractHash and read the spec from the ConfigMap <name>-contract-<hash>.",
    ),
});
export type ReplicaContract = z.infer<typeof ReplicaContract>;

export const ModelCacheStatus = z.object({
  ready: z.string().optional().describe("Ready clusters over selected clusters, e.g. 3/4."),
  summary: z
    .object({
      selected: z.number().int(),
      ready: z.number().int(),
      failed: z.number().int(),
      drifted: z.number().int(),
      blocked: z.number().int().optional().describe("Matching clusters that lack what the cache needs."),
      retained: z.number().int().optional().describe("Clusters that no longer match but keep their replica."),
      released: z.number().int().optional().describe("Matching clusters whose copy was released after spec.eviction.ttl unused; not counted as selected."),
    })
    .optional(),
  source: z.string().optional().describe("The source in one line, for kubectl get."),
  pin: Pin.optional(),
  mountPath: z.string().optional(),
  claimName: z.string().optional().describe("The volume's name on every cluster; a cluster lists its own only when it differs."),
  namespace: z.string().optional().describe("The namespace on every cluster; a cluster lists its own only when it differs."),
  replicaContract: ReplicaContract.optional(),
  clusters: z.array(ClusterStatus).optional(),
  notSelected: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
});
export type ModelCacheStatus = z.infer<typeof ModelCacheStatus>;

export { HydrationPhase };
