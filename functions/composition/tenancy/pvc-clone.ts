// Which existing claims a pvcClone source may read, and which substrate a
// Custom backend may name: both the platform's decision in the Input, never
// the tenant's. A claim in the cache's own cluster namespace is the tenant's
// already (tenancy.pvcClone.ownNamespace); anywhere else needs a grant,
// exactly as for an ExistingPVC. A substrate must be on the platform's list
// (tenancy.customBackends), which alone says what kind of resource it means.
import type { Source } from "../../api/artifact.ts";
import type { CustomBackend } from "../../api/custom-backend.ts";
import type { PvcCloneGrant, Tenancy } from "../../api/input.ts";
import type { Storage } from "../../api/modelcache.ts";
import type { Issue } from "./issues.ts";

export interface CloneContext {
  controlPlaneNamespace: string;
  /** The cache's own namespace on the cluster. */
  ownNamespace: string;
  policy: Tenancy;
}

function granted(grants: readonly PvcCloneGrant[], cp: string, namespace: string, claim: string): boolean {
  return grants.some((g) => g.namespace === namespace && g.controlPlaneNamespaces.includes(cp) && (g.claimNames.includes(claim) || g.claimNames.includes("*")));
}

/** Breaches of tenancy.pvcClone by the source at `at` (spec.artifact.source), copied into `storage`. */
export function checkPvcClone(source: Source, at: string, c: CloneContext, storage?: Storage): Issue[] {
  const s = source.pvcClone;
  if (s === undefined) return [];
  const namespace = s.namespace ?? c.ownNamespace;
  const policy = c.policy.pvcClone;
  const into = storage?.backend === "ExistingPVC" ? (storage.existingPVC?.namespace ?? c.ownNamespace) : c.ownNamespace;
  // The copy runs beside the volume, and a source from elsewhere is bridged there: only ever into the tenant's own namespace.
  if (into !== c.ownNamespace && namespace !== into)
    return [
      {
        field: `${at}.pvcClone`,
        rule: "tenancy.pvcClone",
        message: `cannot be copied into an existing claim in namespace ${into}: the source would be mounted there; use a claim in ${c.ownNamespace}, or storage.backend PVC`,
      },
    ];
  if (namespace === c.ownNamespace)
    return policy.ownNamespace === "Refuse"
      ? [
          {
            field: `${at}.pvcClone`,
            rule: "tenancy.pvcClone.ownNamespace",
            message: "is not allowed: the platform does not let caches be made from existing claims; use a source the platform allows",
          },
        ]
      : [];
  if (granted(policy.grants, c.controlPlaneNamespace, namespace, s.claimName)) return [];
  return [
    {
      field: `${at}.pvcClone.namespace`,
      rule: "tenancy.pvcClone.grants",
      message: `${namespace} is not this cache's namespace on the clusters (${c.ownNamespace}), and no grant gives control-plane namespace ${c.controlPlaneNamespace} the claim ${s.claimName} there: ask the platform engineer for one, or use a claim in ${c.ownNamespace}`,
    },
  ];
}

/** The platform's entry for the substrate a Custom backend names, if it is allowed for this control-plane namespace. */
export function customBackendFor(storage: Storage, policy: Tenancy, controlPlaneNamespace: string): CustomBackend | undefined {
  const name = storage.custom?.substrate;
  const b = policy.customBackends.find((x) => x.name === name);
  if (b === undefined) return undefined;
  return b.controlPlaneNamespaces === undefined || b.controlPlaneNamespaces.includes(controlPlaneNamespace) ? b : undefined;
}

/** Breaches of tenancy.customBackends by the storage at `at` (spec.storage). */
export function checkCustomBackend(storage: Storage, at: string, c: CloneContext): Issue[] {
  if (storage.backend !== "Custom") return [];
  const name = storage.custom?.substrate ?? "";
  if (customBackendFor(storage, c.policy, c.controlPlaneNamespace) !== undefined) return [];
  const listed = c.policy.customBackends.find((x) => x.name === name);
  const allowed = c.policy.customBackends.filter((x) => x.controlPlaneNamespaces === undefined || x.controlPlaneNamespaces.includes(c.controlPlaneNamespace));
  return [
    {
      field: `${at}.custom.substrate`,
      rule: "tenancy.customBackends",
      message:
        listed !== undefined
          ? `${name} is not allowed for control-plane namespace ${c.controlPlaneNamespace} (only for ${(listed.controlPlaneNamespaces ?? []).join(", ")})`
          : `${name} is not a substrate the platform allows (allowed: ${allowed.map((x) => x.name).join(", ") || "none"}): ask the platform engineer to add it to the Input's tenancy.customBackends`,
    },
  ];
}
