// replication AllMatchingNodes with no shared copy (nodeLocal.seed Source, or
// Auto on a cluster with no class for one, as node-seed.ts decides): no shared
// claim or Job; each node's Job hydrates from the source itself with the plan
// the shared Job would use (credentials, source ConfigMap, host checks,
// hydrator flags), and the first verified node pins the bytes (node-local.ts).
// What an earlier shared copy left on the cluster (the tenant switched to
// Source) stays exactly as observed until every node is Ready: a switch never
// takes bytes away before the nodes hold them.
import type { Input } from "../../api/input.ts";
import type { ModelCacheReplicaSpec, ModelCacheReplicaStatus } from "../../api/replica.ts";
import { field, isObject, str } from "../../common/json.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";
import type { SourcePlan } from "../../sources/kind.ts";
import { sourceConfigMap } from "./job.ts";
import { currentAttempt } from "./lifecycle.ts";
import { KEY, sourceConfigMapName } from "./names.ts";
import { prune, replicaAnswer, warnWhenStuck } from "./answer.ts";
import { namespace } from "./namespace.ts";
import { composeNodes } from "./node-local.ts";
import { observe, wrapObject } from "./objects.ts";
import type { VolumePlan } from "./volume.ts";

export interface FromSourceArgs {
  req: FunctionRequest;
  xr: JsonObject;
  spec: ModelCacheReplicaSpec & { nodeLocal: NonNullable<ModelCacheReplicaSpec["nodeLocal"]> };
  vol: VolumePlan;
  source: SourcePlan;
  /** The source in one line (sourceKind.line()). */
  line: string;
  /** Why the nodes seed from the source (node-seed.ts). */
  why: string;
  input: Input;
  namespaceLabels: Record<string, string> | undefined;
  prev: ModelCacheReplicaStatus;
  nowMs: number;
}

function keptAsObserved(state: ResourceState): JsonObject {
  const r = state.resource;
  return { apiVersion: str(r["apiVersion"]) ?? "", kind: str(r["kind"]) ?? "", spec: isObject(r["spec"]) ? r["spec"] : {} };
}

export function composeFromSource(a: FromSourceArgs): FunctionResponse {
  const { req, spec, vol } = a;
  const pc = spec.cluster.providerConfigRef;
  const composed: Record<string, ResourceState> = {};
  const add = (key: string, resource: JsonObject, ready: boolean) => {
    composed[key] = { resource, connectionDetails: {}, ready: ready ? "True" : "False" };
  };
  const obs = (key: string) => observe(req.observed.resources[key]);
  add(KEY.namespace, wrapObject(namespace(spec.namespace, a.namespaceLabels), pc, { policy: "keep" }), obs(KEY.namespace).ready);
  // A source that lists its files in a ConfigMap (http with many files): every node's Job mounts the one copy.
  if (a.source.configMap) {
    const key = KEY.source(vol.claimName);
    add(key, wrapObject(sourceConfigMap(sourceConfigMapName(vol.claimName), vol.namespace, a.source.configMap.data), pc, { policy: "all" }), obs(key).ready);
  }
  const xrNamespace = str(field(a.xr, "metadata", "namespace")) ?? "";
  const { fresh } = currentAttempt(a.prev, spec.refetch ?? "", vol.claimName);
  const nodes = composeNodes({
    observed: req.observed.resources,
    spec,
    input: a.input,
    pc,
    namespace: vol.namespace,
    seedClaim: vol.claimName,
    shared: { phase: "Ready", message: a.why, digest: undefined },
    source: { plan: a.source, line: a.line, secrets: a.source.secrets },
    prev: a.prev,
    fresh,
    cacheName: spec.cacheRef.name,
    cacheNamespace: xrNamespace,
    nowMs: a.nowMs,
    add,
  });
  // An earlier shared copy's objects (volume, Job, report, account): kept as observed until every node is Ready,
  // then let go (the claim's management policies, i.e. retention, decide its bytes).
  if (nodes.phase !== "Ready")
    for (const [key, state] of Object.entries(req.observed.resources))
      if (composed[key] === undefined && !key.startsWith("node")) add(key, keptAsObserved(state), observe(state).ready);

  const pin = nodes.pinning ?? { phase: "Pending" };
  const status = prune({
    phase: nodes.phase,
    message: nodes.message,
    sharedPhase: pin.phase,
    seed: "Source",
    nodes: nodes.nodes as JsonValue,
    nodeSummary: nodes.summary as JsonValue,
    // No claim of this name exists: it names the copy (node claims are <claimName>-n-<hash>), and the fleet reads its pin by it.
    claimName: vol.claimName,
    namespace: vol.namespace,
    mountPath: spec.mountPath,
    observedRefetch: spec.refetch,
    resolvedRevision: pin.resolvedRevision,
    manifestDigest: pin.manifestDigest,
  });
  return warnWhenStuck(replicaAnswer(req, a.xr, Math.max(1, nodes.ttlSeconds), status, composed, nodes), nodes);
}
