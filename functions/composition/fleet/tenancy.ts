// The tenancy policy at the fleet level: a ModelCache outside it is refused
// before anything is selected or composed, naming the field and the rule; one
// inside it gets its tenant's own namespace on every cluster, and, when the
// platform says Clamp, the hydration placement the policy allows.
import type { Input } from "../../api/input.ts";
import type { JsonObject, Result } from "../../sdk/types.ts";
import { describeIssues } from "../tenancy/issues.ts";
import { clusterNamespaceFor } from "../tenancy/namespaces.ts";
import { checkTenancy, type TenancyCheck } from "../tenancy/policy.ts";
import type { Placement } from "../tenancy/placement.ts";
import { claimName as deriveClaimName, legacyClaimName } from "./names.ts";
import type { Cache } from "./parse.ts";
import type { ObservedReplica } from "./replicas.ts";

export const TENANCY_REASON = "TenancyPolicy";

export interface FleetTenancy {
  /** The cache's own namespace on every cluster. */
  namespace: string;
  check: TenancyCheck;
}

export function fleetTenancy(cache: Cache, input: Input): FleetTenancy {
  const namespace = clusterNamespaceFor(cache.namespace, input.tenancy.clusterNamespaces);
  return {
    namespace,
    check: checkTenancy(cache.spec, { controlPlaneNamespace: cache.namespace, ownNamespace: namespace, policy: input.tenancy, root: "spec" }),
  };
}

export function refusal(t: FleetTenancy): string | undefined {
  if (t.check.refused.length === 0) return undefined;
  return `ModelCache refused by the platform's tenancy policy; nothing new is composed for it: ${describeIssues(t.check.refused)}`;
}

export function clampedWarning(t: FleetTenancy): Result | undefined {
  if (t.check.clamped.length === 0) return undefined;
  return {
    severity: "Warning",
    reason: "HydrationClamped",
    message: `the hydration Jobs run with less than asked (input.tenancy.hydration.onViolation: Clamp): ${describeIssues(t.check.clamped)}`,
    target: "Composite",
  };
}

/** spec.hydration as written, with the placement the policy allows in place of the tenant's. */
export function clampedHydration(written: JsonObject, t: FleetTenancy): JsonObject | undefined {
  const h = written["hydration"];
  if (typeof h !== "object" || h === null || Array.isArray(h)) return undefined;
  if (t.check.clamped.length === 0) return h;
  const p: Placement = t.check.placement;
  const out: JsonObject = { ...h };
  for (const k of ["tolerations", "nodeSelector", "resources"] as const) if (p[k] !== undefined) out[k] = JSON.parse(JSON.stringify(p[k])) as JsonObject;
  return out;
}

/**
 * The volume's name. A cache whose volume earlier versions named otherwise
 * (a cache name with dots, or longer than 52 characters) keeps that name
 * while its source is the same: the status this function wrote, or a replica
 * composed for it, says so. Every other cache gets the current name.
 */
export function volumeName(cache: Cache, identity: string, replicas: Iterable<ObservedReplica>): string {
  const current = deriveClaimName(cache.name, identity);
  const legacy = legacyClaimName(cache.name, identity);
  if (legacy === current) return current;
  if (cache.observedStatus.claimName === legacy) return legacy;
  for (const r of replicas) if (r.claimName === legacy || r.status.claimName === legacy) return legacy;
  return current;
}
