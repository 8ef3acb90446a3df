// Issue 9 item 4: two teams, one name. The same cache name in two
// control-plane namespaces gave the same PVC, Job and report names on a
// cluster (with whenUnselected: Delete one team could delete the other's
// volume), and replica names collided across caches (`a` + cluster `b-c`
// vs `a-b` + cluster `c`). And the migration: a volume that exists under
// today's names keeps being used, none is recreated or dropped.
// Driven through the real function over gRPC.
import { describe, expect, it } from "vitest";
import type { JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { inferenceCluster, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, observedObject, request as replicaRequest } from "../support/replica-builders.ts";
import { type Answer, call, clusterObjects, manifestOf, onCluster, realFunction } from "./tenancy-support.ts";

const fn = realFunction();

const KINDS = ["Namespace", "PersistentVolumeClaim", "Job", "ConfigMap", "ServiceAccount", "Role", "RoleBinding"];

describe("the same cache name in two control-plane namespaces", () => {
  it("shares no namespace and no (namespace, name) of any PVC, Job, report or account on the cluster", async () => {
    const a = await onCluster(fn.client(), "team-a", { retention: { whenUnselected: "Delete" } });
    const b = await onCluster(fn.client(), "team-b", { retention: { whenUnselected: "Delete" } });
    for (const kind of KINDS) {
      const ours = clusterObjects(a, kind);
      const theirs = clusterObjects(b, kind);
      expect(ours.length, kind).toBeGreaterThan(0);
      expect(
        ours.filter((o) => theirs.includes(o)),
        kind,
      ).toEqual([]);
    }
    expect(clusterObjects(a, "Namespace")).toEqual(["/mc-team-a"]);
    expect(clusterObjects(b, "Namespace")).toEqual(["/mc-team-b"]);
    // The volume each may delete (Delete retention puts Delete in its policies) is its own.
    const deletable = (x: Answer) =>
      Object.values(x.desired).filter(
        (o) => manifestOf(o)?.["kind"] === "PersistentVolumeClaim" && JSON.stringify((o["spec"] as JsonObject)["managementPolicies"]).includes("*"),
      );
    expect(deletable(a).map((o) => (manifestOf(o)?.["metadata"] as JsonObject)["namespace"])).toEqual(["mc-team-a"]);
  });
});

describe("replica names across caches", () => {
  it("differ for cache a + cluster b-c and cache a-b + cluster c", async () => {
    const clusters = [
      inferenceCluster({ name: "b-c", labels: { pick: "yes" }, cloud: "GKE", storageClassName: "filestore-rwx" }),
      inferenceCluster({ name: "c", labels: { pick: "yes" }, cloud: "GKE", storageClassName: "filestore-rwx" }),
    ];
    const named = async (cache: string, cluster: string) => {
      const xr = { ...modelCache({ clusterSelector: { matchLabels: { pick: "yes" } } }), metadata: { name: cache, namespace: "ml-team" } };
      const f = await call(fn.client(), fleetRequest(xr, { clusters }));
      return Object.values(f.desired)
        .filter((r) => r["kind"] === "ModelCacheReplica" && ((r["spec"] as JsonObject)["cluster"] as JsonObject)["name"] === cluster)
        .map((r) => (r["metadata"] as JsonObject)["name"]);
    };
    const [one] = await named("a", "b-c");
    const [two] = await named("a-b", "c");
    expect(one).toBeDefined();
    expect(two).toBeDefined();
    expect(one).not.toBe(two);
  });
});

describe("migration: a volume composed in the shared namespace by an earlier version", () => {
  const CLAIM = "qwen3-8b-3f9c2a1b7d";
  // What an earlier version composed: everything in model-cache, observed by provider-kubernetes.
  async function observedBefore(): Promise<Record<string, ResourceState>> {
    const first = await call(fn.client(), replicaRequest(baseXr({ namespace: "mc-ml-team" })));
    const out: Record<string, ResourceState> = {};
    for (const [key, o] of Object.entries(first.desired)) {
      const m = manifestOf(o) ?? {};
      const meta = (m["metadata"] ?? {}) as JsonObject;
      const moved = meta["namespace"] !== undefined ? { ...meta, namespace: "model-cache" } : { ...meta, name: "model-cache" };
      out[key] = observedObject(
        key,
        { ...o, spec: { ...(o["spec"] as JsonObject), forProvider: { manifest: { ...m, metadata: moved } } } },
        key.startsWith("volume-") ? { status: { phase: "Bound" } } : {},
      );
    }
    return out;
  }

  it("keeps using it: no volume, Job or report recreated in the tenant's namespace, none dropped", async () => {
    const observed = await observedBefore();
    // The fleet now hands the replica its tenant's namespace; the cluster level sees where the volume is.
    const a = await call(fn.client(), replicaRequest(baseXr({ namespace: "mc-ml-team" }, { attempts: 1, claimName: CLAIM, phase: "Hydrating" }), observed));
    expect(clusterObjects(a, "PersistentVolumeClaim")).toEqual([`model-cache/${CLAIM}`]);
    expect(clusterObjects(a, "Job").every((j) => j.startsWith("model-cache/"))).toBe(true);
    for (const key of Object.keys(observed).filter((k) => k.startsWith("volume-") || k.startsWith("report-"))) expect(Object.keys(a.desired)).toContain(key);
    expect(a.status["namespace"]).toBe("model-cache");
  });
});
