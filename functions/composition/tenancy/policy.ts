// The tenancy policy applied to one cache's spec: every breach, and the
// hydration placement to use (clamped when the platform says Clamp). Both
// levels run it: the fleet to refuse a ModelCache early, naming its field;
// the cluster level because it composes what reaches the cluster, whatever
// its spec claims to be (a replica may be written by hand).
import type { Tenancy } from "../../api/input.ts";
import type { Hydration, ModelCacheSpec } from "../../api/modelcache.ts";
import { checkCredentialDestination } from "./destinations.ts";
import type { Issue } from "./issues.ts";
import { checkSourceOrigins } from "./origins.ts";
import { checkPlacement, type Placement } from "./placement.ts";
import { checkCustomBackend, checkPvcClone } from "./pvc-clone.ts";
import { checkVolume } from "./volumes.ts";
import { checkNodeLocal } from "./node-local.ts";
import type { NodeLocal } from "../../api/node-local.ts";

export interface TenancyContext {
  controlPlaneNamespace: string;
  ownNamespace: string;
  policy: Tenancy;
  /** Path of the spec in messages: `spec`, or where a replica's contract came from. */
  root: string;
}

export interface TenancyCheck {
  /** Breaches that refuse the cache. */
  refused: Issue[];
  /** Breaches the platform's Clamp policy corrected (reported as a Warning). */
  clamped: Issue[];
  /** Placement to compose with: the tenant's, minus what was clamped. */
  placement: Placement;
}

export function placementOf(h: Hydration): Placement {
  return { tolerations: h.tolerations, nodeSelector: h.nodeSelector, resources: h.resources };
}

export function checkTenancy(
  spec: Pick<ModelCacheSpec, "artifact" | "storage" | "hydration"> & { nodeLocal?: NodeLocal | undefined },
  c: TenancyContext,
): TenancyCheck {
  const refused: Issue[] = [
    ...checkNodeLocal(spec.nodeLocal, c.policy.nodeLocal, c.root).refused,
    ...checkVolume(spec, { controlPlaneNamespace: c.controlPlaneNamespace, ownNamespace: c.ownNamespace, policy: c.policy, root: c.root }),
    ...checkSourceOrigins(spec.artifact.source, `${c.root}.artifact.source`, c.policy),
    ...checkCredentialDestination(spec.artifact.source, `${c.root}.artifact.source`, c.policy),
    ...checkPvcClone(spec.artifact.source, `${c.root}.artifact.source`, c, spec.storage),
    ...checkCustomBackend(spec.storage, `${c.root}.storage`, c),
  ];
  const own = placementOf(spec.hydration);
  const placed = checkPlacement(own, c.policy.hydration, `${c.root}.hydration`);
  if (c.policy.hydration.onViolation === "Clamp") return { refused, clamped: placed.issues, placement: placed.clamped };
  return { refused: [...refused, ...placed.issues], clamped: [], placement: own };
}
