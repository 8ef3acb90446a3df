// Issue 9 item 5: the platform lost control of placement. Tolerations
// (operator: Exists), control-plane node selectors and any resource
// (nvidia.com/gpu) passed from a tenant's spec straight into the hydration
// pod. Driven through the real function over gRPC.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { fleet, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, request as replicaRequest, tenancyInput } from "../support/replica-builders.ts";
import { type Answer, call, fatals, manifestOf, realFunction } from "./tenancy-support.ts";

const fn = realFunction();

const greedy = {
  tolerations: [{ operator: "Exists" }],
  nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
  resources: { limits: { "nvidia.com/gpu": "8" } },
};
const FIELDS = [
  "spec.hydration.tolerations[0]",
  'spec.hydration.nodeSelector["node-role.kubernetes.io/control-plane"]',
  'spec.hydration.resources.limits["nvidia.com/gpu"]',
];

function pod(a: Answer): JsonObject | undefined {
  const job = Object.values(a.desired)
    .map(manifestOf)
    .find((m) => m?.["kind"] === "Job");
  return ((job?.["spec"] as JsonObject | undefined)?.["template"] as JsonObject | undefined)?.["spec"] as JsonObject | undefined;
}

describe("a tenant asking for every taint, the control-plane nodes and a GPU", () => {
  it("is refused at the ModelCache with a Fatal naming each field and rule", async () => {
    const a = await call(
      fn.client(),
      fleetRequest(modelCache({ clusterSelector: { matchLabels: { tier: "prod" } }, hydration: greedy }), { clusters: fleet() }),
    );
    const [f] = fatals(a);
    expect(f?.reason).toBe("TenancyPolicy");
    for (const field of FIELDS) expect(f?.message).toContain(`${field}: `);
    expect(f?.message).toContain("input.tenancy.hydration.allowedTolerations");
    expect(Object.keys(a.desired)).toEqual([]);
  });

  it("is Blocked at a hand-written replica: no Job is composed", async () => {
    const a = await call(
      fn.client(),
      replicaRequest(baseXr({ hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8, ...greedy } })),
    );
    expect(a.status["phase"]).toBe("Blocked");
    for (const field of FIELDS) expect(String(a.status["message"])).toContain(field);
    expect(pod(a)).toBeUndefined();
  });

  it("is clamped when the platform says Clamp: the pod gets none of it, and the platform's own placement", async () => {
    const input = tenancyInput({ hydration: { onViolation: "Clamp", nodeSelector: { "example.com/pool": "hydration" } } });
    const a = await call(
      fn.client(),
      replicaRequest(
        baseXr({ hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8, ...greedy } }),
        {},
        {},
        {},
        input,
      ),
    );
    const p = pod(a);
    expect(p).toBeDefined();
    expect(p?.["tolerations"]).toEqual([]);
    expect(p?.["nodeSelector"]).toEqual({ "example.com/pool": "hydration" });
    expect(JSON.stringify(p?.["containers"])).not.toContain("nvidia.com/gpu");
    expect(a.results).toContainEqual(expect.objectContaining({ severity: "SEVERITY_WARNING", reason: "HydrationClamped" }));
  });
});
