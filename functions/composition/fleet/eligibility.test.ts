// What a matching cluster must offer before a replica can work there: each
// lack is a Blocked cluster with a reason a person can act on, never a silent drop.
import { describe, expect, it } from "vitest";
import { ClusterFields } from "../../api/input.ts";
import { ModelCacheSpec } from "../../api/modelcache.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { readCluster } from "./read-cluster.ts";
import { blockedReason } from "./eligibility.ts";
import { GPUS, inferenceCluster, modelCache, type ClusterSpec } from "../../../test/support/fleet-builders.ts";

const fields = ClusterFields.parse({});

function reason(spec: JsonObject, cluster: Partial<ClusterSpec>): string | undefined {
  const read = readCluster(inferenceCluster({ name: "c", ...cluster }), fields);
  if (!read.ok) throw new Error(read.reason);
  return blockedReason(ModelCacheSpec.parse(modelCache(spec)["spec"]), read.facts, fields);
}

const rwo = { storage: { backend: "PVC", pvc: { size: "1Gi", accessMode: "ReadWriteOnce" } } };
const engine = {
  artifact: {
    kind: "Engine",
    engine: { runtime: "TensorRT-LLM", profile: "fp8", gpuProductName: GPUS.H100.productName },
    source: { oci: { reference: "reg.example/e:h100" } },
  },
};

describe("blockedReason", () => {
  it.each<{ reason: string; spec?: JsonObject; cluster: Partial<ClusterSpec>; want: string | undefined }>([
    { reason: "a cluster with everything the default PVC cache needs", cluster: {}, want: undefined },
    {
      reason: "no provider config: nothing can be composed there",
      cluster: { providerConfig: null },
      want: "cluster c has no provider config (status.providerConfigRef.name is empty): nothing can be composed on it yet",
    },
    {
      reason: "no RWX class and none in the spec: a shared volume cannot be provisioned",
      cluster: { storageClassName: null },
      want: "cluster c has no ReadWriteMany storage class (status.cache.storageClassName is empty) and spec.storage.pvc.storageClassName is not set",
    },
    {
      reason: "no RWX class, node copies that hydrate from the source (the fleet passes seed Source where they may): no shared volume is needed",
      spec: { replication: "AllMatchingNodes", nodeLocal: { size: "40Gi", seed: "Source" } },
      cluster: { storageClassName: null },
      want: undefined,
    },
    {
      reason: "no RWX class, node copies seeded from the shared copy: Blocked, as for AllMatchingClusters",
      spec: { replication: "AllMatchingNodes", nodeLocal: { size: "40Gi", seed: "SharedCopy" } },
      cluster: { storageClassName: null },
      want: "cluster c has no ReadWriteMany storage class (status.cache.storageClassName is empty) and spec.storage.pvc.storageClassName is not set",
    },
    {
      reason: "no RWX class, but the spec names one",
      spec: { storage: { backend: "PVC", pvc: { size: "1Gi", storageClassName: "nfs" } } },
      cluster: { storageClassName: null },
      want: undefined,
    },
    { reason: "no RWX class, but ReadWriteOnce uses the cluster's default class", spec: rwo, cluster: { storageClassName: null }, want: undefined },
    {
      reason: "no RWX class with an existing claim: nothing to provision",
      spec: { storage: { backend: "ExistingPVC", existingPVC: { claimName: "m" } } },
      cluster: { storageClassName: null },
      want: undefined,
    },
    {
      reason: "a cloud the cluster level cannot map",
      cluster: { cloud: "OpenStack" },
      want: 'cluster c runs on "OpenStack" (spec.cluster.source), which is not one of GKE, EKS, AKS, Nebius, Vultr, Existing',
    },
    { reason: "an Engine built for a GPU the cluster has", spec: engine, cluster: { pools: [{ gpu: GPUS.H100, nodes: 1 }] }, want: undefined },
    {
      reason: "an Engine built for a GPU the cluster lacks",
      spec: engine,
      cluster: { pools: [{ gpu: GPUS.L40S, nodes: 1 }] },
      want: 'cluster c has no "NVIDIA H100 80GB HBM3" GPU for this engine (its pools have "NVIDIA L40S")',
    },
    {
      reason: "an Engine on a cluster without GPUs",
      spec: engine,
      cluster: { pools: [] },
      want: 'cluster c has no "NVIDIA H100 80GB HBM3" GPU for this engine (its pools have no GPUs)',
    },
    {
      reason: "the provider config is checked first: the one thing without which nothing else matters",
      cluster: { providerConfig: null, storageClassName: null, cloud: "OpenStack" },
      want: "cluster c has no provider config (status.providerConfigRef.name is empty): nothing can be composed on it yet",
    },
  ])("$reason", ({ spec, cluster, want }) => {
    expect(reason(spec ?? {}, cluster)).toBe(want);
  });
});
