// replication: AllMatchingNodes. Beyond one shared volume per cluster, a
// verified copy on the local disk of every selected node of every selected
// cluster, seeded from the cluster's shared copy, or (nodeLocal.seed, where the
// platform allows it) hydrated by each node from the source. The node part of the API
// lives here: what a tenant writes (nodeSelector, nodeLocal), what the
// platform allows (tenancy.nodeLocal in the Input), what the fleet hands a
// replica (its cluster's selected nodes) and what a replica reports per node.
import { z } from "zod";
import { PermanentFailure } from "./hydration-report.ts";
import { LabelMap, LabelSelectorRequirement, ObjectName, Quantity } from "./k8s.ts";

/** The most nodes one cluster may have a copy on; the platform's ceiling (tenancy.nodeLocal.maxNodesPerCluster) is at most this. */
export const MAX_NODES_PER_CLUSTER = 256;

export const NodeSelector = z
  .object({
    matchLabels: LabelMap.optional(),
    matchExpressions: z.array(LabelSelectorRequirement).max(64).optional(),
    cel: z
      .string()
      .max(10240)
      .optional()
      .describe(
        "A CEL expression over `node` (name, labels, pools, devices with DRA attributes and capacity), in the same environment as spec.clusterSelector.cel; must return bool.",
      ),
  })
  .strict()
  .describe("Which nodes of each selected cluster get a copy on local disk (replication: AllMatchingNodes); all of them when empty.");
export type NodeSelector = z.infer<typeof NodeSelector>;

/** Where a node's copy comes from (nodeLocal.seed); unset means Auto. */
export const NodeSeed = z.enum(["SharedCopy", "Source", "Auto"]);
export type NodeSeed = z.infer<typeof NodeSeed>;

export const NodeLocal = z
  .object({
    size: Quantity.describe("Local disk to claim on each node; at most input.tenancy.nodeLocal.maxSize."),
    storageClassName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe(
        "A node-local storage class (local PersistentVolumes, WaitForFirstConsumer); one of input.tenancy.nodeLocal.storageClassNames, the first by default.",
      ),
    seed: NodeSeed.optional().describe(
      "Where each node's copy comes from. SharedCopy: the cluster's shared (RWX) copy, hydrated once from the source; a cluster with no shared copy possible is Blocked. Source: every node hydrates from the source itself (N downloads, N uses of the credentials; no shared copy is made); needs input.tenancy.nodeLocal.seedFromSource Allow. Auto (the default when unset): the shared copy where the cluster can hold one, the source where it cannot, if the platform allows it.",
    ),
  })
  .strict()
  .describe("The copy on each node: required with replication AllMatchingNodes.");
export type NodeLocal = z.infer<typeof NodeLocal>;

/** One node of a cluster as the fleet hands it to the cluster's replica. */
export const ReplicaNode = z
  .object({
    name: ObjectName,
    cordoned: z.boolean().optional().describe("The node is unschedulable: a copy it has stays, nothing new starts there."),
  })
  .strict();
export type ReplicaNode = z.infer<typeof ReplicaNode>;

export const NodePhase = z.enum(["Pending", "Hydrating", "Verifying", "Ready", "Failed", "Blocked"]);
export type NodePhase = z.infer<typeof NodePhase>;

/** One node's copy, as its replica reports it. */
export const NodeStatus = z.object({
  name: z.string(),
  phase: NodePhase,
  claimName: z.string().optional(),
  cordoned: z.boolean().optional(),
  selected: z
    .boolean()
    .optional()
    .describe("False for a node that left the cluster or no longer matches: its copy is kept until leftAt + the platform's grace."),
  leftSince: z.string().optional().describe("Since when the node is no longer selected (RFC 3339)."),
  bytesDone: z.number().int().optional(),
  bytesTotal: z.number().int().optional(),
  bytesPerSecond: z.number().optional(),
  etaSeconds: z.number().int().optional(),
  manifestDigest: z.string().optional(),
  attempts: z.number().int().optional(),
  lastError: z
    .string()
    .optional()
    .describe(
      "The last error observed on the node (its Job's report or condition), credential shapes redacted and at most 512 characters; kept after the failed Job is gone, cleared by a verified copy or a refetch.",
    ),
  permanentFailure: PermanentFailure.optional().describe(
    "Set when the node's last attempt failed in a way retrying cannot fix, as its hydrator reported: Source (the source or its credentials: authentication refused, not found, a digest the source serves that does not match; every node would meet it) or Destination (the node's volume: full, or holding other files). No attempt starts on the node until a new refetch value.",
  ),
  message: z.string().optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

/** A cluster's nodes in one line (the replica's status.nodeSummary, the ModelCache's status.clusters[].nodes). */
export const NodeRollup = z.object({
  ready: z.string().describe("Ready nodes over selected schedulable nodes, e.g. 3/4."),
  selected: z.number().int(),
  readyCount: z.number().int(),
  hydrating: z.number().int().optional(),
  failed: z.number().int().optional(),
  cordoned: z.number().int().optional().describe("Selected nodes that are cordoned: not counted in selected; a copy they hold stays."),
  left: z.number().int().optional().describe("Nodes no longer selected whose copy is still kept."),
  bytesDone: z.number().int().optional().describe("Over every selected node."),
  bytesTotal: z.number().int().optional(),
  etaSeconds: z.number().int().optional().describe("The slowest node's."),
});
export type NodeRollup = z.infer<typeof NodeRollup>;

/** What the platform lets a tenant reach on nodes (input.tenancy.nodeLocal). */
export const NodeLocalPolicy = z
  .object({
    storageClassNames: z
      .array(z.string().min(1).max(253))
      .max(16)
      .default([])
      .describe(
        "Node-local storage classes a cache may use, the first being the default; empty (the default) refuses replication AllMatchingNodes. Each should provision local PersistentVolumes with node affinity (WaitForFirstConsumer).",
      ),
    maxSize: Quantity.default("200Gi").describe("The most local disk one cache may claim on one node."),
    maxNodesPerCluster: z.number().int().min(1).max(MAX_NODES_PER_CLUSTER).default(64).describe("The most nodes of one cluster a cache may have a copy on."),
    nodeSelector: LabelMap.optional().describe("Labels a node must carry to be reachable at all: ANDed with the tenant's spec.nodeSelector."),
    seedFromSource: z
      .enum(["Deny", "Allow"])
      .default("Deny")
      .describe(
        "Whether node copies may be hydrated by each node straight from the source (spec.nodeLocal.seed Source, or Auto on a cluster with no shared copy): one download per node, each with the cache's credentials, from every selected node's network. Deny (the default): nodes copy only the cluster's shared copy, and a cluster that cannot hold one is Blocked.",
      ),
    leftNodeGracePeriod: z
      .string()
      .max(32)
      .regex(/^([0-9]+h)?([0-9]+m)?([0-9]+s)?$/, "must be a duration such as 24h, 90m or 1h30m")
      .refine((d) => d !== "", "must be a duration such as 24h, 90m or 1h30m")
      .default("24h")
      .describe(
        "How long a node that left the cluster's node list (or stopped matching) keeps its copy's objects before the retention policy applies: a node missing briefly is never a deletion.",
      ),
  })
  .strict();
export type NodeLocalPolicy = z.infer<typeof NodeLocalPolicy>;
