import { describe, expect, it } from "vitest";
import { HydrationCeiling } from "../../api/input.ts";
import { checkPlacement, withPlatformPlacement, type Placement } from "./placement.ts";

const ceiling = HydrationCeiling.parse({ allowedTolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule" }] });
const AT = "spec.hydration";

describe("checkPlacement", () => {
  it.each<{ reason: string; p: Placement; fields: string[]; clamped: Placement }>([
    { reason: "nothing asked, nothing refused", p: {}, fields: [], clamped: {} },
    {
      reason: "an allowed toleration passes",
      p: { tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule" }] },
      fields: [],
      clamped: { tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule" }] },
    },
    {
      reason: "operator Exists with no key tolerates every taint",
      p: { tolerations: [{ operator: "Exists" }] },
      fields: ["spec.hydration.tolerations[0]"],
      clamped: { tolerations: [] },
    },
    {
      reason: "the control-plane taint",
      p: { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }] },
      fields: ["spec.hydration.tolerations[0]"],
      clamped: { tolerations: [] },
    },
    {
      reason: "an allowed toleration with seconds, where the allowed one tolerates forever",
      p: { tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule", tolerationSeconds: 5 }] },
      fields: [],
      clamped: { tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule", tolerationSeconds: 5 }] },
    },
    {
      reason: "a control-plane node selector",
      p: { nodeSelector: { "node-role.kubernetes.io/control-plane": "", "topology.kubernetes.io/zone": "a" } },
      fields: ['spec.hydration.nodeSelector["node-role.kubernetes.io/control-plane"]'],
      clamped: { nodeSelector: { "topology.kubernetes.io/zone": "a" } },
    },
    {
      reason: "a GPU for a download",
      p: { resources: { limits: { "nvidia.com/gpu": "8", cpu: "1" } } },
      fields: ['spec.hydration.resources.limits["nvidia.com/gpu"]'],
      clamped: { resources: { limits: { cpu: "1" } } },
    },
    {
      reason: "more memory than the ceiling, in another unit",
      p: { resources: { requests: { memory: "9000Mi" } } },
      fields: ['spec.hydration.resources.requests["memory"]'],
      clamped: { resources: { requests: { memory: "8Gi" } } },
    },
    {
      reason: "exactly the ceiling, written differently",
      p: { resources: { limits: { cpu: "4000m", memory: "8192Mi" } } },
      fields: [],
      clamped: { resources: { limits: { cpu: "4000m", memory: "8192Mi" } } },
    },
  ])("$reason", ({ p, fields, clamped }) => {
    const got = checkPlacement(p, ceiling, AT);
    expect(got.issues.map((i) => i.field)).toEqual(fields);
    expect(got.clamped).toEqual(clamped);
  });
});

describe("withPlatformPlacement", () => {
  it("adds the platform's tolerations once, and its node selector wins", () => {
    const platform = HydrationCeiling.parse({
      nodeSelector: { pool: "hydration" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule" }],
    });
    const got = withPlatformPlacement(
      {
        nodeSelector: { pool: "gpu", "topology.kubernetes.io/zone": "a" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "hydration", effect: "NoSchedule" }],
      },
      platform,
    );
    expect(got.nodeSelector).toEqual({ pool: "hydration", "topology.kubernetes.io/zone": "a" });
    expect(got.tolerations).toHaveLength(1);
  });
});
