// Issue 13's two new ways for bytes to reach a cluster, each a new way for a
// tenant to reach further, driven through the real function over gRPC: a
// pvcClone source naming another team's volume, and a Custom backend naming a
// kind of resource. What a tenant may clone and which kinds a substrate name
// means are the platform's, in the Input; a refusal names the field, the rule
// and the fix, and drops nothing composed before.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { fleet, modelCache, observedReplica, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, observedObject, request as replicaRequest, type ObservedAs } from "../support/replica-builders.ts";
import { call, fatals, manifestOf, realFunction } from "./tenancy-support.ts";

const fn = realFunction();

const INPUT = "modelcache.fn.crossplane.io/v1alpha1";
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const inTeamA = (spec: JsonObject = {}) => ({ ...modelCache({ ...prod, ...spec }), metadata: { name: "qwen3-8b", namespace: "team-a" } });
const replicaInTeamA = (spec: JsonObject) => ({
  ...baseXr({ namespace: "mc-team-a", ...spec }),
  metadata: { name: "qwen3-8b-prod-east", namespace: "team-a" },
});
const cloneOf = (pvcClone: JsonObject) => ({ artifact: { kind: "Weights", layout: "Flat", source: { pvcClone } } });
const REFERENCE = { name: "reference", apiVersion: "volumes.example.com/v1alpha1", kind: "ModelVolume" };

describe("a ModelCache copying another team's volume (pvcClone)", () => {
  it("is refused with a Fatal naming the field, the rule and the fix; the replicas it had are kept", async () => {
    const before = await call(fn.client(), fleetRequest(inTeamA(), { clusters: fleet() }));
    const observed = Object.fromEntries(
      Object.entries(before.desired).map(([k, r]) => [k, observedReplica(r, r["kind"] === "ConfigMap" ? undefined : { phase: "Ready" }, k)]),
    );
    const a = await call(fn.client(), fleetRequest(inTeamA(cloneOf({ claimName: "weights", namespace: "mc-team-b" })), { clusters: fleet(), observed }));
    const [f] = fatals(a);
    expect(f?.reason).toBe("TenancyPolicy");
    expect(f?.message).toContain(
      "spec.artifact.source.pvcClone.namespace: mc-team-b is not this cache's namespace on the clusters (mc-team-a), and no grant gives control-plane namespace team-a the claim weights there: ask the platform engineer for one",
    );
    expect(f?.message).toContain("(tenancy policy: input.tenancy.pvcClone.grants)");
    expect(Object.keys(a.desired).sort()).toEqual(Object.keys(observed).sort());
  });

  it("granted, it only reads the source: nothing is created or written in the source's namespace", async () => {
    const input = {
      apiVersion: INPUT,
      kind: "Input",
      tenancy: { pvcClone: { grants: [{ controlPlaneNamespaces: ["team-a"], namespace: "models", claimNames: ["golden"] }] } },
    };
    const xr = replicaInTeamA(cloneOf({ claimName: "golden", namespace: "models" }));
    // The source claim read, then the volume behind it: each pass composes one step more of the read-only bridge.
    let observed = {};
    let a = await call(fn.client(), replicaRequest(xr, observed, {}, {}, input));
    for (let pass = 0; pass < 4; pass++) {
      observed = Object.fromEntries(
        Object.entries(a.desired).map(([k, r]) => {
          const kind = manifestOf(r)?.["kind"];
          const as: ObservedAs =
            kind === "PersistentVolumeClaim"
              ? { extra: { spec: { storageClassName: "efs-sc", accessModes: ["ReadWriteMany"], volumeName: "pv-golden" } }, status: { phase: "Bound" } }
              : kind === "PersistentVolume"
                ? { extra: { spec: { capacity: { storage: "20Gi" }, csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-1::fsap-1" } } } }
                : {};
          return [k, observedObject(k, r, as)];
        }),
      );
      a = await call(fn.client(), replicaRequest(xr, observed, {}, {}, input));
    }
    const written = Object.values(a.desired).filter((o) => {
      const policies = (o["spec"] as JsonObject | undefined)?.["managementPolicies"];
      return !(Array.isArray(policies) && policies.length === 1 && policies[0] === "Observe");
    });
    const inModels = written.map((o) => manifestOf(o)).filter((m) => (m?.["metadata"] as JsonObject | undefined)?.["namespace"] === "models");
    expect(inModels).toEqual([]);
    const pv = written.map((o) => manifestOf(o)).find((m) => m?.["kind"] === "PersistentVolume");
    expect(pv?.["spec"]).toMatchObject({ accessModes: ["ReadOnlyMany"], persistentVolumeReclaimPolicy: "Retain", csi: { readOnly: true } });
    const job = written.map((o) => manifestOf(o)).find((m) => m?.["kind"] === "Job");
    expect((job?.["metadata"] as JsonObject | undefined)?.["namespace"]).toBe("mc-team-a");
    // The Job reads the bridge: a claim of its own name in mc-team-a, bound to the read-only volume, never a claim
    // named like the source (a tenant's own claim "golden" in mc-team-a would have been adopted and deleted).
    const bridge = written
      .map((o) => manifestOf(o))
      .find(
        (m) =>
          m?.["kind"] === "PersistentVolumeClaim" &&
          (m["metadata"] as JsonObject)["namespace"] === "mc-team-a" &&
          (m["spec"] as JsonObject)["volumeName"] === (pv?.["metadata"] as JsonObject)["name"],
      );
    const bridgeName = (bridge?.["metadata"] as JsonObject | undefined)?.["name"];
    expect(bridgeName).toMatch(/^golden-ro-[0-9a-f]{10}$/);
    expect(JSON.stringify(job)).toContain(`"persistentVolumeClaim":{"claimName":"${String(bridgeName)}","readOnly":true}`);
    expect(written.map((o) => manifestOf(o)).filter((m) => (m?.["metadata"] as JsonObject | undefined)?.["name"] === "golden")).toEqual([]);
  });
});

describe("a Custom backend", () => {
  it("naming a substrate the platform does not list is refused at the ModelCache, naming the field and the knob", async () => {
    const a = await call(fn.client(), fleetRequest(inTeamA({ storage: { backend: "Custom", custom: { substrate: "reference" } } }), { clusters: fleet() }));
    const [f] = fatals(a);
    expect(f?.message).toContain("spec.storage.custom.substrate: reference is not a substrate the platform allows (allowed: none)");
    expect(f?.message).toContain("(tenancy policy: input.tenancy.customBackends)");
  });

  it("in a hand-written replica composes no kind but the one the platform maps the name to", async () => {
    const spec = { storage: { backend: "Custom", custom: { substrate: "reference" } } };
    const refused = await call(fn.client(), replicaRequest(replicaInTeamA(spec)));
    expect(refused.status["phase"]).toBe("Blocked");
    expect(refused.desired).toEqual({});

    const input = { apiVersion: INPUT, kind: "Input", tenancy: { customBackends: [{ ...REFERENCE, controlPlaneNamespaces: ["team-a"] }] } };
    const a = await call(fn.client(), replicaRequest(replicaInTeamA(spec), {}, {}, {}, input));
    const kinds = Object.values(a.desired).map((o) => `${String(manifestOf(o)?.["apiVersion"])} ${String(manifestOf(o)?.["kind"])}`);
    expect(kinds.sort()).toEqual(["v1 Namespace", "v1 PersistentVolumeClaim", "volumes.example.com/v1alpha1 ModelVolume"]);

    // The same name in another control-plane namespace, which the platform did not list it for.
    const other: JsonObject = { ...baseXr({ ...spec, namespace: "mc-team-b" }), metadata: { name: "qwen3-8b-prod-east", namespace: "team-b" } };
    const b = await call(fn.client(), replicaRequest(other, {}, {}, {}, input));
    expect(b.status["phase"]).toBe("Blocked");
    expect(String(b.status["message"])).toContain("reference is not allowed for control-plane namespace team-b (only for team-a)");
    expect(b.desired).toEqual({});
  });
});
