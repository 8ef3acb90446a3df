// What a matching cluster must offer before a replica can work there. A
// cluster that lacks it is reported Blocked with the reason, never silently
// dropped and never fanned out (a replica there could only fail).
import type { ModelCacheSpec } from "../../api/modelcache.ts";
import { CLOUDS } from "../../api/replica.ts";
import type { ObservedCluster } from "./read-cluster.ts";
import { productNames } from "./read-cluster.ts";
import type { ClusterFields } from "../../api/input.ts";

/** Why `facts` cannot hold this cache, or undefined when it can. */
export function blockedReason(spec: ModelCacheSpec, facts: ObservedCluster, fields: ClusterFields): string | undefined {
  if (facts.providerConfigRef === undefined)
    return `cluster ${facts.name} has no provider config (${fields.providerConfigName} is empty): nothing can be composed on it yet`;
  if (facts.cloud !== undefined && !(CLOUDS as readonly string[]).includes(facts.cloud))
    return `cluster ${facts.name} runs on ${JSON.stringify(facts.cloud)} (${fields.cloud}), which is not one of ${CLOUDS.join(", ")}`;
  const pvc = spec.storage.pvc;
  // A shared volume needs a class that can provision it; ReadWriteOnce works with the cluster's default class.
  // Node copies hydrated from the source need no shared volume (the fleet passes seed Source where they may).
  if (
    spec.storage.backend === "PVC" &&
    !(spec.replication === "AllMatchingNodes" && spec.nodeLocal?.seed === "Source") &&
    pvc !== undefined &&
    pvc.accessMode !== "ReadWriteOnce" &&
    pvc.storageClassName === undefined &&
    facts.storageClassName === undefined
  )
    return `cluster ${facts.name} has no ${pvc.accessMode} storage class (${fields.storageClassName} is empty) and spec.storage.pvc.storageClassName is not set`;
  const gpu = spec.artifact.engine?.gpuProductName;
  if (spec.artifact.kind === "Engine" && gpu !== undefined && !productNames(facts).has(gpu)) {
    const have = [...productNames(facts)].sort();
    return `cluster ${facts.name} has no ${JSON.stringify(gpu)} GPU for this engine (its pools have ${have.length ? have.map((p) => JSON.stringify(p)).join(", ") : "no GPUs"})`;
  }
  return undefined;
}
