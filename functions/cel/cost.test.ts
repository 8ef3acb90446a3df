import { describe, expect, it } from "vitest";
import { estimateCost, type AstNode } from "./cost.ts";
import { selectorEnvironment } from "./environment.ts";
import { compileSelector } from "./index.ts";
import { CLUSTER_LIMITS, EXPRESSION_LIMITS } from "./limits.ts";

function cost(expr: string): number {
  const p = selectorEnvironment().parse(expr);
  const checked = p.check();
  if (!checked.valid) throw new Error(String(checked.error?.message));
  return estimateCost(p.ast as unknown as AstNode).cost;
}

const H100 = `device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")`;

describe("budget decisions", () => {
  const cases: { expr: string; accepted: boolean; reason: string }[] = [
    { expr: `cluster.labels["region"] == "us-east1"`, accepted: true, reason: "a label lookup is constant" },
    { expr: `cluster.devices.exists(device, ${H100})`, accepted: true, reason: "one pass over every device" },
    {
      expr: `cluster.devices.filter(device, ${H100}).size() >= 16 && cluster.devices.exists(device, device.capacity["gpu.nvidia.com"].?memory.orValue(quantity("0")).compareTo(quantity("80G")) >= 0)`,
      accepted: true,
      reason: "two passes",
    },
    {
      expr: `cluster.pools.exists(pool, pool.devices.filter(device, ${H100}).size() == 8)`,
      accepted: true,
      reason: "pools then their devices: bounded by the cluster's device total, not pools x devices per pool",
    },
    {
      expr: `cluster.devices.all(a, cluster.devices.all(b, a.name != b.name || a.pool == b.pool))`,
      accepted: false,
      reason: "every device against every device",
    },
    {
      expr: `cluster.devices.map(d, d.name).all(n, n in cluster.devices.map(d, d.name))`,
      accepted: false,
      reason: "membership in a device-sized list inside a device loop",
    },
    {
      expr: `cluster.pools.exists(p, p.devices.all(a, p.devices.all(b, a.name == b.name)))`,
      accepted: false,
      reason: "quadratic within each pool: the share rule does not apply to nested loops",
    },
    {
      expr: `cluster.pools.exists(p, (p.devices + p.devices).all(a, p.devices.all(b, true)))`,
      accepted: false,
      reason: "a concatenation of shared lists still counts as shared",
    },
  ];
  it.each(cases)("$reason", ({ expr, accepted }) => {
    const c = compileSelector(expr);
    expect(c.ok).toBe(accepted);
    if (!c.ok) expect(c.error.kind).toBe("Cost");
  });

  it("points at the comprehension that exceeds the budget", () => {
    const expr = `cluster.labels["a"] == "b" || cluster.devices.exists(a, cluster.devices.exists(b, a.name == b.name))`;
    const c = compileSelector(expr);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.error.position).toEqual({ line: 1, column: expr.indexOf("cluster.devices.exists(a") + 1 });
  });
});

describe("the cost model", () => {
  it("charges a device loop by the declared device maximum", () => {
    expect(cost(`cluster.devices.exists(d, d.name == "x")`)).toBeGreaterThanOrEqual(CLUSTER_LIMITS.maxDevicesPerCluster);
  });

  it("grows with the work per device", () => {
    expect(cost(`cluster.devices.exists(device, ${H100})`)).toBeGreaterThan(cost(`cluster.devices.exists(device, device.driver == "x")`));
  });

  it("charges nested device loops the product of the sizes", () => {
    const one = cost(`cluster.devices.exists(a, true)`);
    expect(cost(`cluster.devices.exists(a, cluster.devices.exists(b, true))`)).toBeGreaterThanOrEqual(one * CLUSTER_LIMITS.maxDevicesPerCluster);
  });

  it("does not apply the pool share to a pool taken out of its loop by index", () => {
    // cluster.pools.filter(...)[0] is one pool that may hold the per-pool maximum.
    expect(cost(`cluster.pools.filter(p, true)[0].devices.all(a, a.name == "x")`)).toBeGreaterThanOrEqual(CLUSTER_LIMITS.maxDevicesPerPool);
    expect(cost(`cluster.pools.map(p, p)[0].devices.all(a, a.name == "x")`)).toBeGreaterThanOrEqual(CLUSTER_LIMITS.maxDevicesPerPool);
  });

  it("charges cel.bind's value once, however often the name is used", () => {
    const bound = cost(`cel.bind(n, cluster.devices.filter(d, d.driver == "x").size(), n > 1 && n < 100 && n != 7)`);
    const repeated = cost(
      `cluster.devices.filter(d, d.driver == "x").size() > 1 && cluster.devices.filter(d, d.driver == "x").size() < 100 && cluster.devices.filter(d, d.driver == "x").size() != 7`,
    );
    expect(bound * 2).toBeLessThan(repeated);
  });

  it("charges string work by length: a long label value costs more to match than a short literal", () => {
    expect(cost(`cluster.labels["a"].contains("x")`)).toBeGreaterThan(cost(`"ab".contains("x")`));
  });

  it("keeps the budget at Kubernetes' value", () => {
    expect(EXPRESSION_LIMITS.maxCost).toBe(1_000_000);
  });
});

describe("sizes behind dyn", () => {
  it("a string doubled behind dyn is estimated as doubling, not as a constant", () => {
    // The issue-9 bypass: `true ? dyn(s) : dyn(0)` joined to an unknown shape whose `+` did not grow.
    let body = "x12.size() > 0";
    for (let i = 12; i >= 1; i--) body = `cel.bind(x${i}, x${i - 1} + x${i - 1}, ${body})`;
    expect(cost(`cel.bind(x0, true ? dyn(cluster.name) : dyn(0), ${body})`)).toBeGreaterThan(EXPRESSION_LIMITS.maxCost);
  });
});
