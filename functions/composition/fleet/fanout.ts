// Fan-out: the one ModelCacheReplica a selected cluster gets. Its spec is the
// cluster's own part of the contract with the cluster level
// (functions/api/replica.ts), resolved here so the replica never reads the
// cluster object, plus the hash of the fleet-wide part (contract.ts), which it
// reads from the contract's ConfigMap. Credentials travel as Secret references only.
import type { Input } from "../../api/input.ts";
import { CLOUDS } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { ObservedCluster } from "./read-cluster.ts";
import { replicaName } from "./names.ts";
import type { Cache } from "./parse.ts";

export interface FanoutContext {
  cache: Cache;
  input: Input;
  /** The hash of this call's replica contract (contract.ts), the one thing every replica shares. */
  contractHash: string;
}

function replicaCluster(f: ObservedCluster): JsonObject {
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
  if (f.nodes !== undefined) c["nodes"] = f.nodes.map((n) => ({ ...n }));
  return c;
}

/**
 * The replica's spec in the compact form: its cluster and the contract's
 * hash. Everything fleet-wide is in the ConfigMap `<cache>-contract-<hash>`,
 * which the cluster level reads as a required resource.
 */
export function replicaSpec(ctx: FanoutContext, facts: ObservedCluster): JsonObject {
  return { cacheRef: { name: ctx.cache.name }, cluster: replicaCluster(facts), contractHash: ctx.contractHash };
}

/** `name`: the name the replica already has, if composed before (names.ts, replicaName, says why). */
export function replicaResource(ctx: FanoutContext, facts: ObservedCluster, name?: string): JsonObject {
  return {
    apiVersion: ctx.input.replica.apiVersion,
    kind: ctx.input.replica.kind,
    // No labels: Crossplane labels composed resources with their composite, and every byte here is paid 5,000 times.
    metadata: { name: name ?? replicaName(ctx.cache.name, facts.name), namespace: ctx.cache.namespace },
    spec: replicaSpec(ctx, facts),
  };
}
