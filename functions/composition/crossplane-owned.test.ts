// A live Crossplane v2 writes spec.crossplane on every XR before a function
// runs (crossplane render does not). Both levels must compose exactly what
// they compose without it, never copy it anywhere, and still refuse an
// unknown field of our own.
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject } from "../sdk/types.ts";
import { composeFleet } from "./fleet/compose.ts";
import { fleet, modelCache, request as fleetRequest } from "../../test/support/fleet-builders.ts";
import { scenarios } from "../../test/support/replica-scenarios.ts";
import { baseXr, compactForm, compose, contractMap } from "../../test/support/replica-builders.ts";
import { CONTRACT_REQUIREMENT } from "./replica/contract.ts";

/** What a live Crossplane v2.2 sets under spec.crossplane of a namespaced XR. */
const CROSSPLANE: JsonObject = {
  compositionRef: { name: "modelcaches.modelcache.dev" },
  compositionRevisionRef: { name: "modelcaches.modelcache.dev-8f3c2a1" },
  compositionUpdatePolicy: "Automatic",
  resourceRefs: [{ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCacheReplica", name: "qwen3-8b-x7k2p" }],
};

function live(xr: JsonObject): JsonObject {
  return { ...xr, spec: { ...(xr["spec"] as JsonObject), crossplane: CROSSPLANE } };
}

const fatals = (rsp: FunctionResponse) => rsp.results.filter((r) => r.severity === "Fatal").map((r) => r.message);

describe("the fleet level on a live XR", () => {
  const cases: { reason: string; xr: JsonObject }[] = [
    { reason: "a cache selecting by labels", xr: modelCache({ clusterSelector: { matchLabels: { region: "us-east1" } } }) },
    {
      reason: "a cache with every optional section written",
      xr: modelCache({ mountPath: "/models/q", retention: { whenUnselected: "Delete" }, hydration: { concurrency: 4 } }),
    },
  ];
  it.each(cases)("composes exactly what it composes without spec.crossplane: $reason", ({ xr }) => {
    const want = composeFleet(fleetRequest(xr, { clusters: fleet() }), { defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0" });
    const got = composeFleet(fleetRequest(live(xr), { clusters: fleet() }), {
      defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0",
    });
    expect(fatals(got)).toEqual([]);
    expect(got).toEqual(want);
    expect(JSON.stringify(got)).not.toContain("compositionRevisionRef");
  });

  it("still refuses an unknown field of its own, naming it", () => {
    const rsp = composeFleet(fleetRequest(live(modelCache({ replicas: 3 })), { clusters: fleet() }), {
      defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0",
    });
    expect(fatals(rsp)).toEqual([expect.stringMatching(/spec: Unrecognized key: "replicas"/)]);
  });
});

describe("the cluster level on a live XR", () => {
  const full = scenarios().filter((s) => s.phase !== "Fatal" && s.required === undefined);
  it.each(full.map((s) => [s.name, s] as const))("the full form composes exactly what it composes without spec.crossplane: %s", (_n, s) => {
    expect(compose(live(s.xr), s.observed)).toEqual(compose(s.xr, s.observed));
  });

  it("the compact form composes exactly what it composes without spec.crossplane", () => {
    const compact = compactForm(baseXr());
    const required = { [CONTRACT_REQUIREMENT]: [contractMap(compact.contract)] };
    const want = compose(compact.xr, {}, undefined, required);
    const got = compose(live(compact.xr), {}, undefined, required);
    expect(fatals(got)).toEqual([]);
    expect(got).toEqual(want);
  });

  it("still refuses an unknown field of its own, naming it", () => {
    const rsp = compose(live(baseXr({ replicas: 3 })));
    expect(fatals(rsp)).toEqual([expect.stringMatching(/spec: Unrecognized key: "replicas"/)]);
  });
});
