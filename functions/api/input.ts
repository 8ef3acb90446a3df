// The function's input (the `input` of a Composition step). It says which
// cluster type to read as required resources and where the fields the
// function needs live in it; the defaults read Modelplane's InferenceCluster.
import { z } from "zod";
import { AddressClass, DEFAULT_REFUSED_ADDRESSES } from "./address-classes.ts";
import { BUILT_IN_GROUP, CustomBackend } from "./custom-backend.ts";
import { API_VERSION, REPLICA_KIND } from "./group.ts";
import { HydratorImage } from "./image.ts";
import { DNS_LABEL, ObjectName, Quantity, Toleration } from "./k8s.ts";
import { Serving } from "./serving.ts";
import { credentialDestinationSpecs, type CredentialKey } from "../sources/registry.ts";
import { NodeLocalPolicy } from "./node-local.ts";

export const INPUT_API_VERSION = "modelcache.fn.crossplane.io/v1alpha1";

/** A dot path into an object, e.g. `status.providerConfigRef.name`. */
const FieldPath = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dot path such as status.cache.storageClassName");

export const ClusterFields = z
  .object({
    providerConfigName: FieldPath.default("status.providerConfigRef.name"),
    providerConfigKind: FieldPath.default("status.providerConfigRef.kind").describe("Read when present; ClusterProviderConfig otherwise."),
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
    nodes: FieldPath.default("status.nodes").describe(
      "replication AllMatchingNodes: the cluster's nodes, a list of {name, labels, unschedulable, ready, devices} (devices as in gpuPools, with their DRA driver), published by the platform's cluster controller.",
    ),
  })
  .strict();
export type ClusterFields = z.infer<typeof ClusterFields>;

export const ClusterType = z
  .object({
    apiVersion: z.string().min(1).default("modelplane.ai/v1alpha1"),
    kind: z.string().min(1).default("InferenceCluster"),
    matchLabels: z.record(z.string(), z.string()).optional().describe("Narrows what Crossplane fetches; the cache's own selector applies on top."),
    namespace: z.string().optional().describe("For a namespaced cluster type."),
    fields: ClusterFields.default(ClusterFields.parse({})),
  })
  .strict();

// The tenancy policy: what the platform engineer lets a tenant (whoever may
// write ModelCaches in one control-plane namespace) reach on the clusters.
// A tenant writes the ModelCache; only the platform writes this.

/** A namespace name on a cluster: a DNS label, never `default` or a `kube-` namespace. */
const ClusterNamespaceName = z
  .string()
  .max(63)
  .regex(DNS_LABEL, "must be a DNS label (lowercase letters, digits, '-')")
  .refine((n) => n !== "default" && !n.startsWith("kube-"), "must not be default or a kube- namespace");

const DNS_LABEL_OR_STAR = "(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)";
/** `scheme://host[:port]`; a `*` stands for exactly one DNS label. */
export const Destination = z
  .string()
  .max(300)
  .regex(
    new RegExp(`^https?://${DNS_LABEL_OR_STAR}(\\.${DNS_LABEL_OR_STAR})*(:[0-9]{1,5})?$`),
    "must be scheme://host[:port] in lowercase, e.g. https://huggingface.co or https://*.example.com (a * stands for one DNS label)",
  );

export const TenancyNamespaces = z
  .object({
    prefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, "must be 1-20 lowercase letters, digits or '-', starting with a letter")
      .refine((p) => !p.startsWith("kube-"), "must not start with kube-")
      .default("mc-")
      .describe(
        "A control-plane namespace N gets the cluster namespace <prefix>N; past 50 characters a head of it and 12 hex digits of N's hash (63 characters).",
      ),
    map: z
      .record(z.string().max(63).regex(DNS_LABEL, "must be a control-plane namespace name"), ClusterNamespaceName)
      .optional()
      .describe("Explicit cluster namespaces for some control-plane namespaces; each value used once and not starting with the prefix."),
    labels: z
      .record(z.string().max(317), z.string().max(63))
      .optional()
      .describe("Labels set on every tenant namespace the function creates (e.g. what the platform's Secret sync selects)."),
  })
  .strict();
export type TenancyNamespaces = z.infer<typeof TenancyNamespaces>;

/** One allow-list per source kind that sends a credential, as the kind declares it (functions/sources/). */
type DestinationList = z.ZodDefault<z.ZodArray<typeof Destination>>;
export const CredentialDestinations = z
  .object(
    Object.fromEntries(
      credentialDestinationSpecs().map((d) => [
        d.key,
        z
          .array(Destination)
          .max(64)
          .default([...d.default])
          .describe(d.description),
      ]),
    ) as { [K in CredentialKey]: DestinationList },
  )
  .strict();

export const SourceOrigins = z
  .object({
    allowedOrigins: z
      .array(Destination)
      .max(256)
      .optional()
      .describe("When set, the only origins a source may fetch from (with or without credentials): every http URL, the hub or S3 endpoint, the OCI registry."),
    refusedAddresses: z
      .array(AddressClass)
      .max(4)
      .default([...DEFAULT_REFUSED_ADDRESSES])
      .describe(
        "Hosts a source may not name: LinkLocal (169.254.0.0/16, fe80::/10), Metadata (cloud metadata addresses and names), Loopback, Private (RFC 1918, 100.64.0.0/10, fc00::/7, *.svc, *.cluster.local).",
      ),
  })
  .strict();

export const ExistingPVCGrant = z
  .object({
    controlPlaneNamespaces: z.array(z.string().max(63).regex(DNS_LABEL)).min(1).max(256),
    namespace: ClusterNamespaceName.describe("The cluster namespace holding the claims."),
    claimNames: z
      .array(z.union([ObjectName, z.literal("*")]))
      .min(1)
      .max(256)
      .describe("Claims granted; * grants every claim in the namespace."),
    access: z.enum(["ReadOnly", "ReadWrite"]).default("ReadOnly").describe("ReadOnly: only hydrate: false (verify) is allowed."),
  })
  .strict();
export type ExistingPVCGrant = z.infer<typeof ExistingPVCGrant>;

export const ExistingPVCPolicy = z
  .object({
    ownNamespace: z
      .enum(["ReadWrite", "ReadOnly", "Refuse"])
      .default("ReadWrite")
      .describe("Claims in the cache's own cluster namespace: usable to hydrate into, only to verify, or not at all."),
    grants: z.array(ExistingPVCGrant).max(64).default([]).describe("Claims in other cluster namespaces a control-plane namespace may use."),
  })
  .strict();

export const PvcCloneGrant = z
  .object({
    controlPlaneNamespaces: z.array(z.string().max(63).regex(DNS_LABEL)).min(1).max(256),
    namespace: ClusterNamespaceName.describe("The cluster namespace holding the source claims."),
    claimNames: z
      .array(z.union([ObjectName, z.literal("*")]))
      .min(1)
      .max(256)
      .describe("Claims that may be read as a pvcClone source; * grants every claim in the namespace."),
  })
  .strict();
export type PvcCloneGrant = z.infer<typeof PvcCloneGrant>;

export const PvcClonePolicy = z
  .object({
    ownNamespace: z
      .enum(["Allow", "Refuse"])
      .default("Allow")
      .describe("Claims in the cache's own cluster namespace (the tenant's already): may be cloned or copied, or not at all."),
    grants: z
      .array(PvcCloneGrant)
      .max(64)
      .default([])
      .describe("Claims in other cluster namespaces a control-plane namespace may copy from (read-only, through a bridged read-only volume)."),
  })
  .strict();
export type PvcClonePolicy = z.infer<typeof PvcClonePolicy>;

export const DEFAULT_NODE_SELECTOR_KEYS = [
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "kubernetes.io/arch",
  "node.kubernetes.io/instance-type",
];
export const DEFAULT_MAX_RESOURCES = { cpu: "4", memory: "8Gi", "ephemeral-storage": "4Gi" };

export const HydrationCeiling = z
  .object({
    onViolation: z
      .enum(["Refuse", "Clamp"])
      .default("Refuse")
      .describe("Refuse: a cache asking for more is refused. Clamp: what is not allowed is dropped or lowered, with a Warning."),
    allowedTolerations: z.array(Toleration).max(32).default([]).describe("A tenant's toleration must equal one of these."),
    allowedNodeSelectorKeys: z.array(z.string().min(1).max(317)).max(64).default(DEFAULT_NODE_SELECTOR_KEYS),
    maxResources: z
      .record(z.string().min(1).max(253), Quantity)
      .default(DEFAULT_MAX_RESOURCES)
      .describe("Resource names a tenant may request and the most of each (requests and limits)."),
    nodeSelector: z.record(z.string().max(317), z.string().max(63)).optional().describe("Set on every hydration pod by the platform; wins over the tenant's."),
    tolerations: z.array(Toleration).max(32).optional().describe("Added to every hydration pod by the platform."),
  })
  .strict();
export type HydrationCeiling = z.infer<typeof HydrationCeiling>;

export const Tenancy = z
  .object({
    clusterNamespaces: TenancyNamespaces.default(TenancyNamespaces.parse({})),
    credentialDestinations: CredentialDestinations.default(CredentialDestinations.parse({})),
    sources: SourceOrigins.default(SourceOrigins.parse({})),
    existingPVC: ExistingPVCPolicy.default(ExistingPVCPolicy.parse({})),
    pvcClone: PvcClonePolicy.default(PvcClonePolicy.parse({})).describe("Which existing claims a pvcClone source may read."),
    customBackends: z
      .array(CustomBackend)
      .max(32)
      .default([])
      .describe("The substrates storage.backend Custom may name, and the kind of resource each composes on the clusters; none by default."),
    storageClassNames: z
      .array(z.string().min(1).max(253))
      .max(64)
      .optional()
      .describe("When set, the only classes spec.storage.pvc.storageClassName may name."),
    hydration: HydrationCeiling.default(HydrationCeiling.parse({})),
    nodeLocal: NodeLocalPolicy.default(NodeLocalPolicy.parse({})).describe(
      "replication AllMatchingNodes: the local storage classes, disk per node, nodes per cluster and node labels a tenant may reach.",
    ),
  })
  .strict();
export type Tenancy = z.infer<typeof Tenancy>;

export const Input = z
  .object({
    apiVersion: z.literal(INPUT_API_VERSION),
    kind: z.literal("Input"),
    metadata: z.object({ name: z.string().optional() }).optional(),
    clusters: ClusterType.default(ClusterType.parse({})),
    clusterNamespace: ClusterNamespaceName.default("model-cache").describe(
      "Deprecated: the one namespace earlier versions put every cache in. A replica whose volume is already there keeps it there until its source changes; nothing new is composed there.",
    ),
    tenancy: Tenancy.default(Tenancy.parse({})).describe(
      "What a tenant may reach on the clusters; the same in the ModelCache's and the ModelCacheReplica's Composition.",
    ),
    hydratorImage: HydratorImage.optional().describe(
      "The image the hydration Jobs run; defaults to the hydrator image the function was released with, pinned by digest. :latest or no tag is refused; pin it by digest (image@sha256:<digest>).",
    ),
    replica: z
      .object({ apiVersion: z.string().default(API_VERSION), kind: z.string().default(REPLICA_KIND) })
      .strict()
      .default({ apiVersion: API_VERSION, kind: REPLICA_KIND }),
    serving: Serving.optional().describe(
      "Set in a serving composition's step, after the platform's own steps: mount caches into the workloads they composed and hold each back until its cache is verified on its cluster (docs/api.md, \"Serving\").",
    ),
  })
  .strict()
  .superRefine((input, ctx) => {
    // Every tenant's namespace must be its own: no map value may be a derived name, the shared namespace, or used twice.
    const ns = input.tenancy.clusterNamespaces;
    const path = ["tenancy", "clusterNamespaces"];
    if (input.clusterNamespace.startsWith(ns.prefix))
      ctx.addIssue({
        code: "custom",
        path: [...path, "prefix"],
        message: `must not be a prefix of clusterNamespace (${input.clusterNamespace}), the shared namespace of earlier versions`,
      });
    const seen = new Map<string, string>();
    for (const [from, to] of Object.entries(ns.map ?? {})) {
      const at = [...path, "map", from];
      if (to.startsWith(ns.prefix)) ctx.addIssue({ code: "custom", path: at, message: `must not start with the prefix ${ns.prefix}: derived namespaces do` });
      if (to === input.clusterNamespace)
        ctx.addIssue({ code: "custom", path: at, message: `must not be clusterNamespace (${to}), the shared namespace of earlier versions` });
      const other = seen.get(to);
      if (other !== undefined)
        ctx.addIssue({ code: "custom", path: at, message: `${to} is already the namespace of ${other}: each control-plane namespace needs its own` });
      seen.set(to, from);
    }
    const names = new Set<string>();
    input.tenancy.customBackends.forEach((b, i) => {
      const at = ["tenancy", "customBackends", i];
      if (names.has(b.name)) ctx.addIssue({ code: "custom", path: [...at, "name"], message: `${b.name} is named twice: each substrate once` });
      names.add(b.name);
      const group = b.apiVersion.split("/")[0] ?? "";
      if (BUILT_IN_GROUP.test(group))
        ctx.addIssue({ code: "custom", path: [...at, "apiVersion"], message: `${group} is a Kubernetes group: a custom backend is the substrate's own CRD` });
    });
  });
export type Input = z.infer<typeof Input>;
