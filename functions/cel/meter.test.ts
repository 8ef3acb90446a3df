// The runtime meter: a selector is stopped where its budget runs out, whatever the static estimate
// said, deterministically, and no CEL construct that tolerates errors (|| , exists) can absorb the stop.
import { describe, expect, it } from "vitest";
import { compileSelector, evaluateSelector, RUNTIME_LIMITS, type ClusterFactsInput } from "./index.ts";
import { h100Fleet } from "../../test/support/cel-testdata.ts";

const cluster: ClusterFactsInput = h100Fleet("c", 2);
const list = `[${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;
/** 10,000 iterations, estimated well under the static budget. */
const LOOP = `${list}.all(a, ${list}.all(b, a + b >= 0))`;

function evaluate(expr: string, limit?: number) {
  const c = compileSelector(expr);
  if (!c.ok) throw new Error(c.error.message);
  return evaluateSelector(c.program, cluster, limit);
}

describe("the runtime meter", () => {
  it.each([
    { expr: LOOP, reason: "a plain loop" },
    { expr: `${LOOP} || true`, reason: "|| absorbs errors on its left in CEL, but not a spent budget" },
    { expr: `true && ${LOOP}`, reason: "the stop surfaces through &&" },
    { expr: `[1, 2].exists(x, x == 2 && ${LOOP}) || [1].exists(y, y == 1)`, reason: "exists tolerates errors from other elements, but not a spent budget" },
  ])("stops at the limit: $reason", ({ expr }) => {
    const r = evaluate(expr, 5_000);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("Budget");
    expect(r.error.message).toContain("it used its runtime budget of 5,000 cost units");
    expect(r.cost).toBeGreaterThan(5_000);
    expect(r.cost).toBeLessThan(5_100);
  });

  it("counts the same on every run (the cost is steps and sizes, not time)", () => {
    const a = evaluate(LOOP);
    const b = evaluate(LOOP);
    expect(a).toMatchObject({ ok: true, value: true });
    expect(a.cost).toBe(b.cost);
    expect(a.cost).toBeGreaterThan(10_000);
  });

  it("never allows more than Kubernetes' per-cluster limit, whatever the caller asks", () => {
    const r = evaluate(LOOP, 10 * RUNTIME_LIMITS.maxCostPerCluster);
    expect(r).toMatchObject({ ok: true, value: true });
    // 256 lists of 256: every read of m costs its 65,792 elements, and m is read 256 times. The
    // estimate prices a read of m at 1, so it lets this through.
    const l256 = `[${Array.from({ length: 256 }, (_, i) => i).join(", ")}]`;
    const capped = evaluate(`cel.bind(l, ${l256}, cel.bind(m, l.map(a, l), m.all(x, m.size() > 0)))`, 10 * RUNTIME_LIMITS.maxCostPerCluster);
    expect(capped.ok ? "value" : capped.error.message).toContain(
      `it used its runtime budget of ${RUNTIME_LIMITS.maxCostPerCluster.toLocaleString("en-US")} cost units`,
    );
  });

  it("prices what values hold: a long string costs more to compare than a short one", () => {
    const long = evaluate(`"${"x".repeat(1000)}" == "${"x".repeat(1000)}"`);
    const short = evaluate(`"x" == "x"`);
    expect(long.cost - short.cost).toBeGreaterThan(150);
  });

  it("refuses to build a collection past the cap (a list of lists is as large as all it holds)", () => {
    const r = evaluate(`cel.bind(l, ${list}, cel.bind(m, l.map(a, l), cel.bind(n, m.map(b, m), n.size() > 0)))`);
    expect(r.ok ? "value" : r.error.message).toMatch(/it built a value of [\d,]+ elements, more than the 262,144 a selector may build/);
  });

  it("charges a comprehension's result by what it holds, not by the empty list it started from", () => {
    const small = evaluate(`cel.bind(l, ${list}, l.map(a, a).size() > 0)`);
    const nested = evaluate(`cel.bind(l, ${list}, l.map(a, l).size() > 0)`);
    // 100 references to l: each costs l's size when read (100 x 10), and the result holds 10,100.
    expect(nested.cost - small.cost).toBeGreaterThanOrEqual(1_000 + 1_000);
  });

  it("charges a filter's growing result once, not on every iteration (that was quadratic)", () => {
    const l256 = `[${Array.from({ length: 256 }, (_, i) => i).join(", ")}]`;
    const kept = evaluate(`${l256}.filter(x, true).size() == 256`);
    const dropped = evaluate(`${l256}.filter(x, false).size() == 0`);
    // Keeping every element adds one push per element and the result's 256 elements, once.
    expect(kept.cost - dropped.cost).toBeLessThan(256 * 2 + 0.1 * 256 + 10);
  });
});
