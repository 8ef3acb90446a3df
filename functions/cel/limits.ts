// The bounds the cost estimate assumes about a cluster, and the expression limits. Inputs above the
// cluster bounds are refused (see cluster-facts.ts), so the static estimate stays an upper bound.

/** Declared maxima of a cluster's CEL value. */
export const CLUSTER_LIMITS = {
  /** DRA pools per cluster. */
  maxPools: 1024,
  /** Devices per pool: 4 ResourceSlices of the API's 128 devices each. */
  maxDevicesPerPool: 512,
  /** Devices per cluster, over all pools (64 nodes of 128 MIG slices, or 1,024 nodes of 8 GPUs). */
  maxDevicesPerCluster: 8192,
  /** Attributes plus capacities per device (the DRA API's limit). */
  maxAttributesPerDevice: 32,
  /** Labels on a cluster object. */
  maxLabels: 256,
  /** DRA string attribute values (the API's limit). */
  maxAttributeStringLength: 64,
  /** Names: cluster, pool, node, device, driver (DNS subdomain). */
  maxNameLength: 253,
  /** Label keys (prefix 253 + "/" + name 63). */
  maxLabelKeyLength: 317,
  /** Label values. */
  maxLabelValueLength: 63,
} as const;

/** Limits on the expression itself, checked before any cluster is evaluated. */
export const EXPRESSION_LIMITS = {
  /** Kubernetes' limit on a CEL expression. */
  maxLength: 10 * 1024,
  /** Estimated cost per cluster evaluation (Kubernetes' PerCallLimit for validation rules). */
  maxCost: 1_000_000,
  /** Parser nesting depth (calls, member chains, parentheses). */
  maxDepth: 32,
  /** AST nodes. */
  maxAstNodes: 5000,
  maxListElements: 256,
  maxMapEntries: 256,
  maxCallArguments: 8,
} as const;
