// Every list and map a tenant writes in a ModelCache is bounded in the function
// as in the XRD (issue 9, item 6): a request need not come through the API
// server, so the function refuses the same sizes, naming the field.
import { describe, expect, it } from "vitest";
import { ModelCacheSpec } from "./modelcache.ts";

const spec = (over: Record<string, unknown>) => ({
  artifact: { source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } } },
  storage: { backend: "PVC", pvc: { size: "40Gi" } },
  ...over,
});
const entries = (n: number, value = "v") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`example.com/k${i}`, value]));

describe("ModelCacheSpec bounds", () => {
  it.each([
    {
      reason: "65 matchExpressions",
      over: { clusterSelector: { matchExpressions: Array.from({ length: 65 }, () => ({ key: "a", operator: "Exists" })) } },
      path: "clusterSelector.matchExpressions",
    },
    {
      reason: "65 matchLabels",
      over: { clusterSelector: { matchLabels: entries(65) } },
      path: "clusterSelector.matchLabels",
      message: "must have at most 64 entries",
    },
    {
      reason: "a matchLabels key longer than a label key can be",
      over: { clusterSelector: { matchLabels: { ["k".repeat(318)]: "v" } } },
      path: "clusterSelector.matchLabels",
    },
    {
      reason: "65 node selector labels",
      over: { hydration: { nodeSelector: entries(65) } },
      path: "hydration.nodeSelector",
      message: "must have at most 64 entries",
    },
    {
      reason: "17 resource limits",
      over: { hydration: { resources: { limits: entries(17, "1") } } },
      path: "hydration.resources.limits",
      message: "must have at most 16 entries",
    },
  ])("refuses $reason, naming the field", ({ over, path, message }) => {
    const r = ModelCacheSpec.safeParse(spec(over));
    expect(r.success).toBe(false);
    const issue = r.error?.issues.find((i) => i.path.slice(0, path.split(".").length).join(".") === path);
    expect(issue, JSON.stringify(r.error?.issues)).toBeDefined();
    if (message) expect(issue?.message).toBe(message);
  });

  it("accepts each at its bound", () => {
    const r = ModelCacheSpec.safeParse(
      spec({ clusterSelector: { matchLabels: entries(64) }, hydration: { nodeSelector: entries(64), resources: { requests: entries(16, "1") } } }),
    );
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });
});
