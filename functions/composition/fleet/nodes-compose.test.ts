// replication: AllMatchingNodes through composeFleet: the nodes each replica is handed, what a gap in the
// node list does (nothing deleted), a bad node selector or a cache outside the platform's node policy
// (Fatal, every replica kept), and the per-cluster roll-up of the replicas' node reports.
import { describe, expect, it } from "vitest";
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { fleet, modelCache, observedReplica, request } from "../../../test/support/fleet-builders.ts";
import { composeFleet } from "./compose.ts";

const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";
const INPUT: JsonObject = {
  apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
  kind: "Input",
  tenancy: { nodeLocal: { storageClassNames: ["local-nvme"] } },
};
const spec: JsonObject = { replication: "AllMatchingNodes", clusterSelector: { matchLabels: { region: "us-east1" } }, nodeLocal: { size: "40Gi" } };
const gke = (nodes: JsonObject[] | undefined): JsonObject[] => {
  const [c] = fleet();
  const cluster = c as JsonObject;
  const status = { ...(cluster["status"] as JsonObject), ...(nodes !== undefined ? { nodes } : {}) };
  return [{ ...cluster, status }];
};
const run = (xr: JsonObject, clusters: JsonObject[], observed: Record<string, ResourceState> = {}, input: JsonObject = INPUT) =>
  composeFleet(request(xr, { clusters, observed, input }), { defaultHydratorImage: IMAGE });
const replicaOf = (rsp: ReturnType<typeof composeFleet>) => Object.values(rsp.desired.resources).find((r) => r.resource["kind"] === "ModelCacheReplica");
const statusOf = (rsp: ReturnType<typeof composeFleet>) => rsp.desired.composite?.resource["status"] as JsonObject;

describe("composeFleet with replication AllMatchingNodes", () => {
  it("hands each replica its cluster's selected nodes, sorted, a cordoned or NotReady one marked", () => {
    const rsp = run(modelCache(spec), gke([{ name: "n2", unschedulable: true }, { name: "n1" }, { name: "n3", ready: false }]));
    expect((replicaOf(rsp)?.resource["spec"] as JsonObject)["cluster"]).toMatchObject({
      nodes: [{ name: "n1" }, { name: "n2", cordoned: true }, { name: "n3", cordoned: true }],
    });
  });

  it("a cluster whose node list disappears is Blocked and its replica kept exactly as it was (a gap never deletes a node's copy)", () => {
    const first = run(modelCache(spec), gke([{ name: "n1" }]));
    const [key, desired] = Object.entries(first.desired.resources).find(([, r]) => r.resource["kind"] === "ModelCacheReplica") ?? [];
    if (key === undefined || desired === undefined) throw new Error("no replica");
    const observed = { [key]: observedReplica(desired.resource, { phase: "Ready", sharedPhase: "Ready" }, key) };
    const rsp = run(modelCache(spec), gke(undefined), observed);
    expect(rsp.desired.resources[key]?.resource["spec"]).toEqual(desired.resource["spec"]);
    const line = (statusOf(rsp)["clusters"] as JsonObject[])[0];
    expect(line).toMatchObject({ name: "gke-us-east1-h100", phase: "Blocked" });
    expect(String(line?.["message"])).toContain("publishes no node list at status.nodes");
  });

  it("a node selector that does not compile is Fatal, naming spec.nodeSelector.cel", () => {
    const rsp = run(modelCache({ ...spec, nodeSelector: { cel: "node.labels[" } }), gke([{ name: "n1" }]));
    expect(rsp.results.map((r) => [r.severity, r.message.startsWith("invalid ModelCache: spec.nodeSelector.cel: syntax error")])).toEqual([["Fatal", true]]);
  });

  it("a cluster selector's `cluster` is not a node selector's variable: Fatal", () => {
    const rsp = run(modelCache({ ...spec, nodeSelector: { cel: 'cluster.name == "x"' } }), gke([{ name: "n1" }]));
    expect(rsp.results[0]?.severity).toBe("Fatal");
  });

  it("where the platform offers no node-local class, AllMatchingNodes is refused by the tenancy policy", () => {
    const rsp = run(modelCache(spec), gke([{ name: "n1" }]), {}, { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input" });
    expect(rsp.results[0]?.severity).toBe("Fatal");
    expect(rsp.results[0]?.message).toContain("spec.replication: AllMatchingNodes is not offered here");
  });

  it("more disk per node than the platform allows is refused, naming the field and the knob", () => {
    const rsp = run(modelCache({ ...spec, nodeLocal: { size: "1Ti" } }), gke([{ name: "n1" }]));
    expect(rsp.results[0]?.message).toContain(
      "spec.nodeLocal.size: 1Ti is more than the 200Gi a cache may claim per node (tenancy policy: input.tenancy.nodeLocal.maxSize)",
    );
  });

  it("a cluster with no class for a shared copy: Blocked by default; selected, its replica handed its nodes, where the platform lets nodes seed from the source", () => {
    const noClass = gke([{ name: "n1" }]).map((c) => ({ ...c, status: { ...(c["status"] as JsonObject), cache: {} } }));
    const denied = (statusOf(run(modelCache(spec), noClass))["clusters"] as JsonObject[])[0];
    expect(denied).toMatchObject({ phase: "Blocked" });
    expect(String(denied?.["message"])).toContain("has no ReadWriteMany storage class");
    expect(replicaOf(run(modelCache(spec), noClass))).toBeUndefined();
    const allow = { ...INPUT, tenancy: { nodeLocal: { storageClassNames: ["local-nvme"], seedFromSource: "Allow" } } };
    const rsp = run(modelCache(spec), noClass, {}, allow);
    expect(rsp.results.filter((r) => r.severity === "Fatal")).toEqual([]);
    expect((replicaOf(rsp)?.resource["spec"] as JsonObject)["cluster"]).toMatchObject({ nodes: [{ name: "n1" }] });
    expect(((replicaOf(rsp)?.resource["spec"] as JsonObject)["cluster"] as JsonObject)["storageClassName"]).toBeUndefined();
  });

  it("nodes seeded from the source where the platform does not allow it: refused, naming spec.nodeLocal.seed and the knob", () => {
    const rsp = run(modelCache({ ...spec, nodeLocal: { size: "40Gi", seed: "Source" } }), gke([{ name: "n1" }]));
    expect(rsp.results[0]?.severity).toBe("Fatal");
    expect(rsp.results[0]?.message).toContain("spec.nodeLocal.seed: Source is not offered here");
    expect(rsp.results[0]?.message).toContain("input.tenancy.nodeLocal.seedFromSource");
  });

  it("rolls a replica's node report up into its cluster's line", () => {
    const first = run(modelCache(spec), gke([{ name: "n1" }, { name: "n2" }]));
    const [key, desired] = Object.entries(first.desired.resources).find(([, r]) => r.resource["kind"] === "ModelCacheReplica") ?? [];
    if (key === undefined || desired === undefined) throw new Error("no replica");
    const nodeSummary = { ready: "1/2", selected: 2, readyCount: 1, hydrating: 1, bytesDone: 30, bytesTotal: 40, etaSeconds: 9 };
    const observed = { [key]: observedReplica(desired.resource, { phase: "Hydrating", sharedPhase: "Ready", nodeSummary }, key) };
    const line = (statusOf(run(modelCache(spec), gke([{ name: "n1" }, { name: "n2" }]), observed))["clusters"] as JsonObject[])[0];
    expect(line).toMatchObject({ phase: "Hydrating", nodes: nodeSummary });
  });

  it("copies a replica's seed Source into its cluster's line, so the serving gate knows no shared claim exists there; a shared copy's line has none", () => {
    const noClass = gke([{ name: "n1" }]).map((c) => ({ ...c, status: { ...(c["status"] as JsonObject), cache: {} } }));
    const allow = { ...INPUT, tenancy: { nodeLocal: { storageClassNames: ["local-nvme"], seedFromSource: "Allow" } } };
    const sourceSpec = { ...spec, nodeLocal: { size: "40Gi", seed: "Source" } };
    const first = run(modelCache(sourceSpec), noClass, {}, allow);
    const [key, desired] = Object.entries(first.desired.resources).find(([, r]) => r.resource["kind"] === "ModelCacheReplica") ?? [];
    if (key === undefined || desired === undefined) throw new Error("no replica");
    const fleetStatus = statusOf(first);
    const claimName = String(fleetStatus["claimName"]);
    const nodeSummary = { ready: "1/1", selected: 1, readyCount: 1 };
    const digest = "sha256:0c7f1a2b3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4";
    const report = (seed: JsonObject): JsonObject => ({
      phase: "Ready",
      sharedPhase: "Ready",
      ...seed,
      nodeSummary,
      claimName,
      namespace: String(fleetStatus["namespace"]),
      mountPath: String(fleetStatus["mountPath"]),
      resolvedRevision: "a1b2c3d",
      manifestDigest: digest,
    });
    const lineOf = (seed: JsonObject) =>
      (statusOf(run(modelCache(sourceSpec), noClass, { [key]: observedReplica(desired.resource, report(seed), key) }, allow))["clusters"] as JsonObject[])[0];
    // The claim, namespace, mount path and digest are the fleet-wide ones (compacted away); the seed is kept.
    expect(lineOf({ seed: "Source" })).toStrictEqual({ name: "gke-us-east1-h100", phase: "Ready", nodes: nodeSummary, seed: "Source" });
    expect(lineOf({})).toStrictEqual({ name: "gke-us-east1-h100", phase: "Ready", nodes: nodeSummary });
  });
});

describe("explaining the node selection on request", () => {
  it("lists each node of a selected cluster that is not selected, as <cluster>/<node>, with why", () => {
    const xr = modelCache({ ...spec, nodeSelector: { matchLabels: { pool: "gpu" } } }, { annotations: { "modelcache.dev/explain-selection": "true" } });
    const rsp = run(
      xr,
      gke([
        { name: "n1", labels: { pool: "gpu" } },
        { name: "n2", labels: { pool: "cpu" } },
      ]),
    );
    expect(statusOf(rsp)["notSelected"]).toContainEqual({ name: "gke-us-east1-h100/n2", reason: 'node: matchLabels: pool is "cpu", want "gpu"' });
  });
});
