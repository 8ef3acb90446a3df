// Which volumes and Secrets a cache may reach. Its own cluster namespace is
// its own; a claim anywhere else needs the platform's grant, and a Job that
// runs there (it must, to mount the claim) may read no Secret or ConfigMap of
// that namespace: it is not the tenant's.
import type { Artifact } from "../../api/artifact.ts";
import type { ExistingPVCGrant, Tenancy } from "../../api/input.ts";
import type { Storage } from "../../api/modelcache.ts";
import type { Issue } from "./issues.ts";

export interface VolumeContext {
  controlPlaneNamespace: string;
  /** The cache's own namespace on the cluster. */
  ownNamespace: string;
  policy: Tenancy;
  /** Path of the spec, e.g. spec. */
  root: string;
}

function grantFor(grants: readonly ExistingPVCGrant[], cp: string, namespace: string, claim: string): ExistingPVCGrant | undefined {
  // The widest access any matching grant gives.
  const matching = grants.filter(
    (g) => g.namespace === namespace && g.controlPlaneNamespaces.includes(cp) && (g.claimNames.includes(claim) || g.claimNames.includes("*")),
  );
  return matching.find((g) => g.access === "ReadWrite") ?? matching[0];
}

/** Secret and ConfigMap references of a source: each would be read in the Job's namespace. */
function namespacedReferences(artifact: Artifact, at: string): string[] {
  const s = artifact.source;
  const refs: string[] = [];
  if (s.huggingFace?.tokenSecretRef !== undefined) refs.push(`${at}.huggingFace.tokenSecretRef`);
  if (s.s3?.credentialsSecretRef !== undefined) refs.push(`${at}.s3.credentialsSecretRef`);
  if (s.oci?.pullSecretRef !== undefined) refs.push(`${at}.oci.pullSecretRef`);
  if (s.configMap !== undefined) refs.push(`${at}.configMap`);
  return refs;
}

export function checkVolume(spec: { artifact: Artifact; storage: Storage }, c: VolumeContext): Issue[] {
  const s = spec.storage;
  const at = `${c.root}.storage`;
  const allowedClasses = c.policy.storageClassNames;
  if (s.backend === "PVC") {
    const cls = s.pvc?.storageClassName;
    if (cls !== undefined && allowedClasses !== undefined && !allowedClasses.includes(cls))
      return [
        {
          field: `${at}.pvc.storageClassName`,
          rule: "tenancy.storageClassNames",
          message: `${cls} is not a storage class caches may use (allowed: ${allowedClasses.join(", ") || "none"})`,
        },
      ];
    return [];
  }
  const e = s.existingPVC;
  if (e === undefined) return [];
  const policy = c.policy.existingPVC;
  const namespace = e.namespace ?? c.ownNamespace;
  if (namespace === c.ownNamespace) {
    if (policy.ownNamespace === "Refuse")
      return [
        { field: `${at}.backend`, rule: "tenancy.existingPVC.ownNamespace", message: "ExistingPVC is not allowed: the platform composes every cache's volume" },
      ];
    if (policy.ownNamespace === "ReadOnly" && e.hydrate)
      return [
        {
          field: `${at}.existingPVC.hydrate`,
          rule: "tenancy.existingPVC.ownNamespace",
          message: "must be false: an existing claim may only be verified, not written",
        },
      ];
    return [];
  }
  const grant = grantFor(policy.grants, c.controlPlaneNamespace, namespace, e.claimName);
  if (grant === undefined)
    return [
      {
        field: `${at}.existingPVC.namespace`,
        rule: "tenancy.existingPVC.grants",
        message: `${namespace} is not this cache's namespace on the clusters (${c.ownNamespace}), and no grant gives control-plane namespace ${c.controlPlaneNamespace} the claim ${e.claimName} there`,
      },
    ];
  const issues: Issue[] = [];
  if (grant.access === "ReadOnly" && e.hydrate)
    issues.push({
      field: `${at}.existingPVC.hydrate`,
      rule: "tenancy.existingPVC.grants",
      message: `must be false: the claim ${e.claimName} in ${namespace} is granted read-only`,
    });
  for (const field of namespacedReferences(spec.artifact, `${c.root}.artifact.source`))
    issues.push({
      field,
      rule: "tenancy.existingPVC.grants",
      message: `not allowed with a claim in another namespace: the Job runs in ${namespace} and would read it there, not in ${c.ownNamespace}`,
    });
  return issues;
}
