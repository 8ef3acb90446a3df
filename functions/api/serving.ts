// The serving capability's API: what a platform engineer writes in the Input
// of a step placed after their own steps in a serving composition, the
// annotations a workload carries to ask for a cache, and what the step
// reports on the consumer XR. docs/api.md, "Serving: the consumer contract".
import { z } from "zod";
import { DNS_LABEL, ObjectName } from "./k8s.ts";

/** On a workload: the caches it mounts, `name` (the consumer's namespace) or `namespace/name`, comma-separated. */
export const CACHES_ANNOTATION = "modelcache.dev/caches";
/** On a workload: the containers that mount them, comma-separated (with mountInto: AnnotatedContainers). */
export const CONTAINERS_ANNOTATION = "modelcache.dev/containers";
/** On a workload or the Object wrapping it: the cluster it runs on, as the ModelCache names it in status.clusters. */
export const CLUSTER_ANNOTATION = "modelcache.dev/cluster";
/** Written by the step on the workload: what it mounts, `ns/cache=claim@digest;...`; the per-cluster record of use. */
export const MOUNTS_ANNOTATION = "modelcache.dev/mounts";
/** KServe's own switch that stops an InferenceService (KServe 0.15+) without deleting it. */
export const KSERVE_STOP_ANNOTATION = "serving.kserve.io/stop";

/** Caches in another control-plane namespace that some tenants may mount. */
export const CacheGrant = z
  .object({
    controlPlaneNamespaces: z
      .array(z.string().max(63).regex(DNS_LABEL, "must be a control-plane namespace name"))
      .min(1)
      .max(256)
      .describe("Tenants (control-plane namespaces of consumer XRs) this grant applies to."),
    cacheNamespace: z.string().max(63).regex(DNS_LABEL, "must be a control-plane namespace name").describe("The control-plane namespace holding the caches."),
    caches: z
      .array(z.union([ObjectName, z.literal("*")]))
      .min(1)
      .max(256)
      .describe("ModelCache names granted; * grants every cache there."),
  })
  .strict();
export type CacheGrant = z.infer<typeof CacheGrant>;

export const Serving = z
  .object({
    mountInto: z
      .enum(["AllContainers", "AnnotatedContainers"])
      .default("AllContainers")
      .describe(
        `AllContainers: every container (not init containers) of every pod template mounts each cache. AnnotatedContainers: only those the workload names in ${CONTAINERS_ANNOTATION}.`,
      ),
    tenancy: z
      .object({
        grants: z.array(CacheGrant).max(64).default([]).describe("A consumer may always mount caches of its own control-plane namespace; these grant others."),
      })
      .strict()
      .default({ grants: [] }),
  })
  .strict()
  .describe(
    "Present: this step is the serving capability. It finds the workloads earlier steps composed that ask for caches, mounts each cache read-only once it is verified on the workload's cluster, and holds the workload back until then.",
  );
export type Serving = z.infer<typeof Serving>;

/** How the step treats one workload now. */
export const GateState = z.enum(["Mounted", "RolloutPending", "Held", "Stopped", "Kept", "Blocked"]);
export type GateState = z.infer<typeof GateState>;

/** One line of the consumer XR's status.modelCaches: a workload, a cache, a cluster. */
export const ConsumerMount = z.object({
  resource: z.string().describe("The composition resource name of the workload (or its Object)."),
  workload: z.string().describe("kind namespace/name of the workload on its cluster."),
  cache: z.string().describe("namespace/name of the ModelCache."),
  cluster: z.string().optional(),
  state: GateState,
  phase: z.string().optional().describe("The cache's phase on that cluster."),
  bytesDone: z.number().int().optional(),
  bytesTotal: z.number().int().optional(),
  etaSeconds: z.number().int().optional(),
  claimName: z.string().optional().describe("The claim the workload mounts (in its own namespace)."),
  manifestDigest: z.string().optional().describe("The verified manifest the mounted volume holds."),
  message: z.string(),
});
export type ConsumerMount = z.infer<typeof ConsumerMount>;
