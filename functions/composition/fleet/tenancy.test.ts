// The tenancy policy at the fleet level: a ModelCache outside it is refused
// before anything is composed, and nothing already composed is dropped.
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject, ResourceState } from "../../sdk/types.ts";
import { composeFleet } from "./compose.ts";
import { legacyClaimName, replicaKey } from "./names.ts";
import { contractOf, fleet, modelCache, observedReplica, request } from "../../../test/support/fleet-builders.ts";

const opts = { defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0" };
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const input = (tenancy: JsonObject) => ({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", tenancy });
const fatals = (rsp: FunctionResponse) => rsp.results.filter((r) => r.severity === "Fatal");

function observedFor(xr: JsonObject): Record<string, ResourceState> {
  const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
  return Object.fromEntries(
    Object.entries(rsp.desired.resources).map(([k, r]) => [
      k,
      observedReplica(r.resource, r.resource["kind"] === "ConfigMap" ? undefined : { phase: "Ready" }, k),
    ]),
  );
}

describe("a ModelCache outside the policy", () => {
  it.each<{ reason: string; spec: JsonObject; tenancy?: JsonObject; fields: string[] }>([
    {
      reason: "another team's claim, its token and an endpoint of its own (issue 9 item 3)",
      spec: {
        artifact: { source: { huggingFace: { repo: "a/b", tokenSecretRef: { name: "team-b-hf-token" }, endpoint: "https://collector.example" } } },
        storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-b-weights", namespace: "team-b", hydrate: true } },
      },
      fields: ["spec.storage.existingPVC.namespace", "spec.artifact.source.huggingFace.endpoint"],
    },
    {
      reason: "every taint tolerated, control-plane nodes, a GPU (issue 9 item 5)",
      spec: {
        hydration: {
          tolerations: [{ operator: "Exists" }],
          nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
          resources: { limits: { "nvidia.com/gpu": "1" } },
        },
      },
      fields: [
        "spec.hydration.tolerations[0]",
        'spec.hydration.nodeSelector["node-role.kubernetes.io/control-plane"]',
        'spec.hydration.resources.limits["nvidia.com/gpu"]',
      ],
    },
  ])("is refused with a Fatal naming each field and rule, keeping every replica: $reason", ({ spec, tenancy, fields }) => {
    const observed = observedFor(modelCache(prod));
    const rsp = composeFleet(request(modelCache({ ...prod, ...spec }), { clusters: fleet(), observed, ...(tenancy ? { input: input(tenancy) } : {}) }), opts);
    const [f] = fatals(rsp);
    expect(f?.reason).toBe("TenancyPolicy");
    for (const field of fields) expect(f?.message).toContain(`${field}: `);
    expect(f?.message).toContain("(tenancy policy: input.tenancy.");
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(observed).sort());
    for (const [k, r] of Object.entries(observed))
      expect(rsp.desired.resources[k]?.resource["spec"] ?? rsp.desired.resources[k]?.resource["data"]).toEqual(r.resource["spec"] ?? r.resource["data"]);
  });

  it("is composed with the placement lowered when the platform says Clamp, with a Warning", () => {
    const spec = {
      ...prod,
      hydration: { concurrency: 4, tolerations: [{ operator: "Exists" }], resources: { limits: { memory: "64Gi", "nvidia.com/gpu": "1" } } },
    };
    const rsp = composeFleet(request(modelCache(spec), { clusters: fleet(), input: input({ hydration: { onViolation: "Clamp" } }) }), opts);
    expect(fatals(rsp)).toEqual([]);
    expect(contractOf(rsp).spec["hydration"]).toEqual({ concurrency: 4, tolerations: [], resources: { limits: { memory: "8Gi" } } });
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "HydrationClamped" }));
  });
});

describe("names", () => {
  it("gives the cache its tenant's namespace on every cluster", () => {
    const a = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
    const b = composeFleet(request({ ...modelCache(prod), metadata: { name: "qwen3-8b", namespace: "team-b" } }, { clusters: fleet() }), opts);
    expect(contractOf(a).spec["namespace"]).toBe("mc-ml-team");
    expect(contractOf(b).spec["namespace"]).toBe("mc-team-b");
  });

  it("keeps the name of a replica composed before", () => {
    const observed = observedFor(modelCache(prod));
    const key = replicaKey("gke-us-east1-h100");
    const old = observed[key];
    if (old === undefined) throw new Error("no replica");
    observed[key] = { ...old, resource: { ...old.resource, metadata: { ...(old.resource["metadata"] as JsonObject), name: "qwen3-8b-gke-us-east1-h100" } } };
    const rsp = composeFleet(request(modelCache(prod), { clusters: fleet(), observed }), opts);
    expect((rsp.desired.resources[key]?.resource["metadata"] as JsonObject)["name"]).toBe("qwen3-8b-gke-us-east1-h100");
  });

  it.each([
    { reason: "the status this function wrote names it", status: (legacy: string) => ({ claimName: legacy }), want: "legacy" },
    { reason: "nothing says the old name is in use", status: () => ({}), want: "current" },
  ])("keeps a volume earlier versions named otherwise while its source is the same: $reason", ({ status, want }) => {
    const dotted = { ...modelCache(prod), metadata: { name: "llama-3.1-8b", namespace: "ml-team" } };
    const first = contractOf(composeFleet(request(dotted, { clusters: fleet() }), opts)).spec["claimName"] as string;
    const identity = first.slice(-10);
    const legacy = legacyClaimName("llama-3.1-8b", identity);
    const rsp = composeFleet(request({ ...dotted, status: status(legacy) }, { clusters: fleet() }), opts);
    expect(contractOf(rsp).spec["claimName"]).toBe(want === "legacy" ? legacy : first);
    expect(first).not.toBe(legacy);
  });
});
