// The tenancy policy at the cluster level, where the Objects that reach a
// cluster are composed. A replica's spec comes from its ModelCache's
// contract, but a replica can be written by hand and a contract edited, so
// this level does not trust it: the namespace is derived here from the
// replica's own control-plane namespace, and the spec is checked against the
// policy of this Composition's Input again.
import { field, str } from "../../common/json.ts";
import type { Input } from "../../api/input.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { ResourceState } from "../../sdk/types.ts";
import { describeIssues, type Issue } from "../tenancy/issues.ts";
import { clusterNamespaceFor, tenantNamespaceLabels } from "../tenancy/namespaces.ts";
import { lowerTo, withPlatformPlacement } from "../tenancy/placement.ts";
import { checkTenancy } from "../tenancy/policy.ts";
import { DEFAULT_RESOURCES } from "./job.ts";
import { KEY } from "./names.ts";

export const TENANCY_REASON = "TenancyPolicy";

export type ReplicaTenancy =
  | { kind: "refused"; message: string }
  | {
      kind: "allowed";
      /** The spec to compose from: the namespace the policy gives, the placement it allows. */
      spec: ModelCacheReplicaSpec;
      /** Labels for the namespace, when it is the tenant's own (not the shared one of earlier versions). */
      namespaceLabels: Record<string, string> | undefined;
      clamped: Issue[];
    };

/** The namespace the Object under `key` was composed for, if one is observed. */
function composedNamespace(state: ResourceState | undefined): string | undefined {
  return str(field(state?.resource, "spec", "forProvider", "manifest", "metadata", "namespace"));
}

function claimOf(spec: ModelCacheReplicaSpec): string {
  return spec.storage.backend === "ExistingPVC" && spec.storage.existingPVC !== undefined ? spec.storage.existingPVC.claimName : spec.claimName;
}

/**
 * The Job's resources with its defaults (job.ts) lowered to the platform's
 * ceiling, when one is below them; a tenant's own values were checked already.
 */
function withinCeiling(ceiling: Record<string, string>, r: ModelCacheReplicaSpec["hydration"]["resources"]): ModelCacheReplicaSpec["hydration"]["resources"] {
  const requests = lowerTo({ ...DEFAULT_RESOURCES.requests, ...(r?.requests ?? {}) }, ceiling);
  const limits = lowerTo({ ...DEFAULT_RESOURCES.limits, ...(r?.limits ?? {}) }, ceiling);
  return requests.changed || limits.changed ? { requests: requests.list, limits: limits.list } : r;
}

export interface ReplicaTenancyArgs {
  spec: ModelCacheReplicaSpec;
  /** The replica's own namespace on the control plane (metadata.namespace, set by the API server). */
  controlPlaneNamespace: string;
  observed: Record<string, ResourceState>;
  input: Input;
  /** Where the spec came from, for messages. */
  root: string;
}

export function replicaTenancy(a: ReplicaTenancyArgs): ReplicaTenancy {
  const { spec, input } = a;
  const policy = input.tenancy;
  const own = clusterNamespaceFor(a.controlPlaneNamespace, policy.clusterNamespaces);
  const shared = input.clusterNamespace;
  // Migration: a volume this replica composed in the namespace every cache shared before stays there
  // (with its Job, report and account) until its source changes; nothing new is ever composed there.
  const grandfathered = shared !== own && composedNamespace(a.observed[KEY.volume(claimOf(spec))]) === shared;
  const namespace = grandfathered ? shared : own;
  const refused: Issue[] = [];
  if (spec.namespace !== own && spec.namespace !== shared)
    refused.push({
      field: `${a.root}.namespace`,
      rule: "tenancy.clusterNamespaces",
      message: `must be ${own}, the namespace the platform gives control-plane namespace ${a.controlPlaneNamespace} on every cluster`,
    });
  const checked = checkTenancy(spec, { controlPlaneNamespace: a.controlPlaneNamespace, ownNamespace: namespace, policy, root: a.root });
  refused.push(...checked.refused);
  const nodes = spec.cluster.nodes?.length ?? 0;
  if (spec.nodeLocal !== undefined && nodes > policy.nodeLocal.maxNodesPerCluster)
    refused.push({
      field: `${a.root}.cluster.nodes`,
      rule: "tenancy.nodeLocal.maxNodesPerCluster",
      message: `names ${nodes} nodes, more than the ${policy.nodeLocal.maxNodesPerCluster} a cache may have a copy on per cluster`,
    });
  if (refused.length > 0) return { kind: "refused", message: `refused by the platform's tenancy policy; nothing new is composed: ${describeIssues(refused)}` };

  const placement = withPlatformPlacement(checked.placement, policy.hydration);
  const hydration = { ...spec.hydration };
  for (const k of ["tolerations", "nodeSelector", "resources"] as const) if (placement[k] !== undefined) Object.assign(hydration, { [k]: placement[k] });
  const resources = withinCeiling(policy.hydration.maxResources, hydration.resources);
  if (resources !== undefined) hydration.resources = resources;
  return {
    kind: "allowed",
    spec: { ...spec, namespace, hydration },
    namespaceLabels: grandfathered ? undefined : tenantNamespaceLabels(a.controlPlaneNamespace, policy.clusterNamespaces),
    clamped: checked.clamped,
  };
}
