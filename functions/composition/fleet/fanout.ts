// Fan-out: the one ModelCacheReplica a selected cluster gets. Its spec is the
// whole contract with the cluster level (functions/api/replica.ts), resolved
// here so the replica never needs to read the ModelCache or the cluster.
// Credentials travel as Secret references only, as they are in the spec.
import type { Input } from "../../api/input.ts";
import { REFETCH_ANNOTATION, type Pin } from "../../api/modelcache.ts";
import { CLOUDS } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { ClusterFacts } from "./cluster-facts.ts";
import { replicaName } from "./names.ts";
import type { Cache } from "./parse.ts";
import type { ObservedReplica } from "./replicas.ts";

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

function replicaCluster(f: ClusterFacts): JsonObject {
  // Eligibility has checked the provider config and the cloud; a cluster that declares no cloud is
  // treated as Existing, the one cloud where nothing but the cache itself is ever composed.
  const cloud = CLOUDS.find((c) => c === f.cloud) ?? "Existing";
  const pc = f.providerConfigRef ?? { kind: "ClusterProviderConfig", name: "" };
  // ClusterProviderConfig is the schema's default kind: left out, as every default is.
  const c: JsonObject = { name: f.name, providerConfigRef: pc.kind === "ClusterProviderConfig" ? { name: pc.name } : { kind: pc.kind, name: pc.name }, cloud };
  if (f.storageClassName !== undefined) c["storageClassName"] = f.storageClassName;
  if (f.csiDrivers.length > 0) c["csiDrivers"] = [...f.csiDrivers];
  if (f.cloudCluster !== undefined) {
    const cc = f.cloudCluster;
    c["cloudCluster"] = {
      name: cc.name,
      ...(cc.region !== undefined ? { region: cc.region } : {}),
      providerConfigRef: { kind: cc.providerConfigRef.kind, name: cc.providerConfigRef.name },
    };
  }
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

/** The replica's spec. Artifact, storage, hydration and retention go as the user wrote them (validated). */
export function replicaSpec(ctx: FanoutContext, facts: ClusterFacts, prev: ObservedReplica | undefined): JsonObject {
  const { cache, input } = ctx;
  const w = cache.written;
  const spec: JsonObject = {
    cacheRef: { name: cache.name },
    cluster: replicaCluster(facts),
    artifact: w["artifact"] ?? {},
    storage: w["storage"] ?? {},
    namespace: input.clusterNamespace,
    claimName: ctx.claimName,
    mountPath: ctx.mountPath,
    hydratorImage: ctx.hydratorImage,
  };
  // Left out when not written: the replica's schema has the same defaults.
  if (w["hydration"] !== undefined) spec["hydration"] = w["hydration"];
  if (w["retention"] !== undefined) spec["retention"] = w["retention"];
  if (ctx.pin !== undefined)
    spec["pin"] = ctx.pin.manifestDigest ? { resolvedRevision: ctx.pin.resolvedRevision, manifestDigest: ctx.pin.manifestDigest } : { resolvedRevision: ctx.pin.resolvedRevision };
  const refetch = cache.annotations[REFETCH_ANNOTATION];
  if (refetch !== undefined && refetch !== "") spec["refetch"] = refetch;
  const previous = previousClaims(ctx.claimName, prev);
  if (previous.length > 0) spec["previousClaimNames"] = previous;
  return spec;
}

export function replicaResource(ctx: FanoutContext, facts: ClusterFacts, prev: ObservedReplica | undefined): JsonObject {
  return {
    apiVersion: ctx.input.replica.apiVersion,
    kind: ctx.input.replica.kind,
    // No labels: Crossplane labels composed resources with their composite, and every byte here is paid 5,000 times.
    metadata: { name: replicaName(ctx.cache.name, facts.name), namespace: ctx.cache.namespace },
    spec: replicaSpec(ctx, facts, prev),
  };
}
