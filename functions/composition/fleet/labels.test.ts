import { describe, expect, it } from "vitest";
import type { ClusterSelector } from "../../api/modelcache.ts";
import { labelMismatch } from "./labels.ts";

const labels = { region: "us-east1", tier: "prod" };

describe("labelMismatch (Kubernetes label-selector semantics)", () => {
  it.each<{ reason: string; sel: ClusterSelector; want: string | undefined }>([
    { reason: "an empty selector matches everything", sel: {}, want: undefined },
    { reason: "matchLabels match when every pair is present", sel: { matchLabels: { region: "us-east1", tier: "prod" } }, want: undefined },
    { reason: "matchLabels with a different value", sel: { matchLabels: { tier: "dev" } }, want: 'matchLabels: tier is "prod", want "dev"' },
    { reason: "matchLabels with a missing key", sel: { matchLabels: { zone: "a" } }, want: 'matchLabels: zone is not set, want "a"' },
    { reason: "In matches a listed value", sel: { matchExpressions: [{ key: "region", operator: "In", values: ["eu", "us-east1"] }] }, want: undefined },
    {
      reason: "In does not match a missing key",
      sel: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
      want: "matchExpressions[0]: zone is not set, want one of [a]",
    },
    { reason: "NotIn matches a missing key", sel: { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, want: undefined },
    {
      reason: "NotIn rejects a listed value",
      sel: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["prod"] }] },
      want: 'matchExpressions[0]: tier is "prod", want none of [prod]',
    },
    {
      reason: "Exists needs the key",
      sel: { matchExpressions: [{ key: "gpu", operator: "Exists" }] },
      want: "matchExpressions[0]: gpu is not set, want it to exist",
    },
    {
      reason: "DoesNotExist rejects a present key",
      sel: { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] },
      want: 'matchExpressions[0]: tier is "prod", want it not to exist',
    },
    {
      reason: "labels and expressions are ANDed: the first failing one is reported",
      sel: {
        matchLabels: { tier: "prod" },
        matchExpressions: [
          { key: "region", operator: "Exists" },
          { key: "region", operator: "In", values: ["eu"] },
        ],
      },
      want: 'matchExpressions[1]: region is "us-east1", want one of [eu]',
    },
  ])("$reason", ({ sel, want }) => {
    expect(labelMismatch(sel, labels)).toBe(want);
  });
});
