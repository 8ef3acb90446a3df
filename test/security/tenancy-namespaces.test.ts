// Issue 9 item 3: one team reached into another's namespace. A ModelCache in
// control-plane namespace team-a named team-b's claim (writable), team-b's
// token and an endpoint of its own; the Job ran in team-b, mounted team-b's
// volume and sent team-b's token away. Every cache shared the cluster
// namespace model-cache, so any team could name any other team's Secret.
// Driven through the real function over gRPC.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { fleet, modelCache, observedReplica, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, request as replicaRequest } from "../support/replica-builders.ts";
import { call, clusterObjects, fatals, manifestOf, onCluster, realFunction } from "./tenancy-support.ts";

const fn = realFunction();

const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const inTeamA = (spec: JsonObject = {}) => ({ ...modelCache({ ...prod, ...spec }), metadata: { name: "qwen3-8b", namespace: "team-a" } });
const hostile = {
  artifact: { source: { huggingFace: { repo: "Qwen/Qwen3-8B", tokenSecretRef: { name: "team-b-hf-token" }, endpoint: "https://collector.attacker.example" } } },
  storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-b-weights", namespace: "team-b", hydrate: true } },
};

describe("a ModelCache naming another team's claim, token and an endpoint of its own", () => {
  it("is refused with a Fatal naming each field and the rule; the replicas it had are kept, nothing new is composed", async () => {
    // What team-a's cache composed while it was harmless.
    const before = await call(fn.client(), fleetRequest(inTeamA(), { clusters: fleet() }));
    const observed = Object.fromEntries(
      Object.entries(before.desired).map(([k, r]) => [k, observedReplica(r, r["kind"] === "ConfigMap" ? undefined : { phase: "Ready" }, k)]),
    );
    const a = await call(fn.client(), fleetRequest(inTeamA(hostile), { clusters: fleet(), observed }));
    const [f] = fatals(a);
    expect(f?.reason).toBe("TenancyPolicy");
    expect(f?.message).toContain("spec.storage.existingPVC.namespace: team-b is not this cache's namespace on the clusters (mc-team-a)");
    expect(f?.message).toContain("(tenancy policy: input.tenancy.existingPVC.grants)");
    expect(f?.message).toContain("spec.artifact.source.huggingFace.endpoint: would send the source's credentials to https://collector.attacker.example");
    expect(Object.keys(a.desired).sort()).toEqual(Object.keys(observed).sort());
    for (const [k, r] of Object.entries(observed)) expect(a.desired[k]?.["spec"] ?? a.desired[k]?.["data"]).toEqual(r.resource["spec"] ?? r.resource["data"]);
  });
});

describe("a hand-written ModelCacheReplica reaching into team-b", () => {
  it.each<{ reason: string; spec: JsonObject; field: string | undefined }>([
    {
      reason: "team-b's claim, writable, with team-b's token",
      spec: {
        storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-b-weights", namespace: "team-b", hydrate: true } },
        claimName: "team-b-weights",
        artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", tokenSecretRef: { name: "team-b-hf-token" } } } },
      },
      field: "spec.storage.existingPVC.namespace",
    },
    { reason: "team-b's namespace on the cluster", spec: { namespace: "mc-team-b" }, field: "spec.namespace" },
    {
      reason: "the shared namespace, to read a Secret there",
      spec: {
        namespace: "model-cache",
        artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", tokenSecretRef: { name: "team-b-hf-token" } } } },
      },
      field: undefined,
    },
  ])("composes nothing in any namespace but its own: $reason", async ({ spec, field }) => {
    const xr = { ...baseXr(spec), metadata: { name: "qwen3-8b-prod-east", namespace: "team-a" } };
    const a = await call(fn.client(), replicaRequest(xr));
    const namespaces = new Set(
      Object.values(a.desired)
        .map((o) => (manifestOf(o)?.["metadata"] as JsonObject | undefined)?.["namespace"])
        .filter((n) => n !== undefined),
    );
    expect([...namespaces].every((n) => n === "mc-team-a")).toBe(true);
    expect(clusterObjects(a, "Job").every((j) => j.startsWith("mc-team-a/"))).toBe(true);
    if (field !== undefined) {
      expect(a.status["phase"]).toBe("Blocked");
      expect(String(a.status["message"])).toContain(`${field}: `);
      expect(a.desired).toEqual({});
    }
  });
});

describe("a plain cache, composed by its ModelCache", () => {
  it.each([["team-a"], ["team-b"]])("runs its Job and reads its Secret in %s's own namespace, not a shared one", async (team) => {
    const a = await onCluster(fn.client(), team);
    const [job] = clusterObjects(a, "Job");
    expect(job?.startsWith(`mc-${team}/`)).toBe(true);
    expect(clusterObjects(a, "Namespace")).toEqual([`/mc-${team}`]);
    expect(a.status["namespace"]).toBe(`mc-${team}`);
  });
});
