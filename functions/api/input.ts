// The function's input (the `input` of a Composition step). It says which
// cluster type to read as required resources and where the fields the
// function needs live in it; the defaults read Modelplane's InferenceCluster.
import { z } from "zod";
import { DNS_LABEL } from "./k8s.ts";

export const INPUT_API_VERSION = "modelcache.fn.crossplane.io/v1alpha1";

/** A dot path into an object, e.g. `status.providerConfigRef.name`. */
const FieldPath = z.string().min(1).max(512).regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dot path such as status.cache.storageClassName");

export const ClusterFields = z
  .object({
    providerConfigName: FieldPath.default("status.providerConfigRef.name"),
    providerConfigKind: FieldPath.default("status.providerConfigRef.kind")
      .describe("Read when present; ClusterProviderConfig otherwise."),
    storageClassName: FieldPath.default("status.cache.storageClassName"),
    cloud: FieldPath.default("spec.cluster.source"),
    gpuPools: FieldPath.default("status.gpuPools"),
    csiDrivers: FieldPath.default("spec.storage.csiDrivers"),
    // The cluster as its cloud knows it (for CSI add-ons on EKS). No default:
    // InferenceCluster does not publish these; point at them when a type does.
    cloudClusterName: FieldPath.optional().describe("The cluster's name in its cloud, e.g. the EKS cluster name."),
    cloudRegion: FieldPath.optional(),
    cloudProviderConfigName: FieldPath.optional().describe("The cloud provider's config name (e.g. provider-upjet-aws)."),
    cloudProviderConfigKind: FieldPath.optional().describe("Read when present; ClusterProviderConfig otherwise."),
  })
  .strict();
export type ClusterFields = z.infer<typeof ClusterFields>;

export const ClusterType = z
  .object({
    apiVersion: z.string().min(1).default("modelplane.ai/v1alpha1"),
    kind: z.string().min(1).default("InferenceCluster"),
    matchLabels: z.record(z.string(), z.string()).optional()
      .describe("Narrows what Crossplane fetches; the cache's own selector applies on top."),
    namespace: z.string().optional().describe("For a namespaced cluster type."),
    fields: ClusterFields.default(ClusterFields.parse({})),
  })
  .strict();

export const Input = z
  .object({
    apiVersion: z.literal(INPUT_API_VERSION),
    kind: z.literal("Input"),
    metadata: z.object({ name: z.string().optional() }).optional(),
    clusters: ClusterType.default(ClusterType.parse({})),
    clusterNamespace: z.string().regex(DNS_LABEL).max(63).refine((n) => n !== "default", "must not be default").default("model-cache")
      .describe("Namespace created on each cluster for volumes and Jobs."),
    hydratorImage: z.string().min(1).optional().describe("Defaults to this function's own image at its version."),
    replica: z
      .object({ apiVersion: z.string().default("modelcache.dev/v1alpha1"), kind: z.string().default("ModelCacheReplica") })
      .strict()
      .default({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCacheReplica" }),
  })
  .strict();
export type Input = z.infer<typeof Input>;
