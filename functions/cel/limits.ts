// The bounds the cost estimate assumes about a cluster, the expression limits, and the runtime budget
// the meter enforces while evaluating (meter.ts). Inputs above the cluster bounds are refused (see
// cluster-facts.ts), so the static estimate stays an upper bound; the meter holds where it is not.

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

/**
 * What one evaluation may do at run time, counted as it runs (meter.ts). Cost units are the static
 * estimate's: 1 per evaluation step, plus 0.1 per character or element of every value a step yields.
 */
export const RUNTIME_LIMITS = {
  /** Cost units one cluster's evaluation may use: Kubernetes' runtime limit for a DRA selector. */
  maxCostPerCluster: 1_000_000,
  /**
   * What a call may spend over all its clusters, pooled in the order they are evaluated: this much per
   * cluster, plus costPerDevice per DRA device it carries. Selector work stays proportional to the
   * request's size, as decoding it is, whatever the expression does.
   */
  costPerCluster: 10_000,
  costPerDevice: 250,
  /** The longest string a step may yield (UTF-16 code units). */
  maxStringLength: 65_536,
  /** The most elements a list or map a step yields may hold, nested ones and string characters included. */
  maxValueSize: 262_144,
  /** Wall-clock backstop per cluster evaluation, in milliseconds, checked every 1,024 steps. */
  deadlineMs: 1_000,
} as const;
