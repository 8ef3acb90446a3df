// Fan-out: the one ModelCacheReplica a selected cluster gets. Its spec is the
// whole contract with the cluster level (functions/api/replica.ts), resolved
// here so the replica never needs to read the ModelCache or the cluster.
// Credentials travel as Secret references only, as they are in the spec.
import type { Input } from "../../api/input.ts";
import { REFETCH_ANNOTATION, type Pin } from "../../api/modelcache.ts";
import type { ModelCacheReplicaSpec, ReplicaCluster } from "../../api/replica.ts";
import { CLOUDS } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { ClusterFacts } from "./cluster-facts.ts";
import { dnsLabel, replicaName } from "./names.ts";
import type { Cache } from "./parse.ts";
import type { ObservedReplica } from "./replicas.ts";

export const CACHE_LABEL = "modelcache.dev/cache";
export const CLUSTER_LABEL = "modelcache.dev/cluster";
/** Earlier volumes kept on a cluster at most; the schema's bound. */
const MAX_PREVIOUS_CLAIMS = 8;

export interface FanoutContext {
  cache: Cache;
  input: Input;
  hydratorImage: string;
  claimName: string;
  mountPath: string;
  pin: Pin | undefined;
}

function replicaCluster(f: ClusterFacts): ReplicaCluster {
  // Eligibility has checked the provider config and the cloud; a cluster that declares no cloud is
  // treated as Existing, the one cloud where nothing but the cache itself is ever composed.
  const cloud = CLOUDS.find((c) => c === f.cloud) ?? "Existing";
  const c: ReplicaCluster = { name: f.name, providerConfigRef: f.providerConfigRef ?? { kind: "ClusterProviderConfig", name: "" }, cloud };
  if (f.storageClassName !== undefined) c.storageClassName = f.storageClassName;
  if (f.csiDrivers.length > 0) c.csiDrivers = f.csiDrivers as ReplicaCluster["csiDrivers"];
  if (f.cloudCluster !== undefined) c.cloudCluster = f.cloudCluster;
  return c;
}

/**
 * Volumes of earlier revisions stay until this cluster has verified the
 * current one (the cluster level deletes what is no longer listed).
 */
export function previousClaims(claimName: string, prev: ObservedReplica | undefined): string[] {
  if (prev === undefined) return [];
  if (prev.status.phase === "Ready" && prev.status.claimName === claimName && prev.status.drift !== true) return [];
  const names = [prev.claimName, ...prev.previousClaimNames].filter((n): n is string => n !== undefined && n !== claimName);
  return [...new Set(names)].slice(0, MAX_PREVIOUS_CLAIMS);
}

export function replicaSpec(ctx: FanoutContext, facts: ClusterFacts, prev: ObservedReplica | undefined): ModelCacheReplicaSpec {
  const { cache, input } = ctx;
  const spec: ModelCacheReplicaSpec = {
    cacheRef: { name: cache.name },
    cluster: replicaCluster(facts),
    artifact: cache.spec.artifact,
    storage: cache.spec.storage,
    namespace: input.clusterNamespace,
    claimName: ctx.claimName,
    mountPath: ctx.mountPath,
    hydration: cache.spec.hydration,
    hydratorImage: ctx.hydratorImage,
    retention: cache.spec.retention,
  };
  if (ctx.pin !== undefined) {
    spec.pin = { resolvedRevision: ctx.pin.resolvedRevision };
    if (ctx.pin.manifestDigest) spec.pin.manifestDigest = ctx.pin.manifestDigest;
  }
  const refetch = cache.annotations[REFETCH_ANNOTATION];
  if (refetch !== undefined && refetch !== "") spec.refetch = refetch;
  const previous = previousClaims(ctx.claimName, prev);
  if (previous.length > 0) spec.previousClaimNames = previous;
  return spec;
}

export function replicaResource(ctx: FanoutContext, facts: ClusterFacts, prev: ObservedReplica | undefined): JsonObject {
  return {
    apiVersion: ctx.input.replica.apiVersion,
    kind: ctx.input.replica.kind,
    metadata: {
      name: replicaName(ctx.cache.name, facts.name),
      namespace: ctx.cache.namespace,
      labels: { [CACHE_LABEL]: dnsLabel(ctx.cache.name, ctx.cache.name), [CLUSTER_LABEL]: dnsLabel(facts.name, facts.name) },
    },
    // The spec is plain JSON by construction (zod output of JSON input).
    spec: JSON.parse(JSON.stringify(replicaSpec(ctx, facts, prev))) as JsonObject,
  };
}
