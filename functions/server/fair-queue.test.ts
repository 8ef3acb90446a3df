import { describe, expect, it } from "vitest";
import { FairQueue } from "./fair-queue.ts";

/** Push `jobs` as [tenant, name] in order, then take `n` (or all) and return their names. */
function order(limits: { perTenantRunning: number; perTenantQueued: number }, jobs: [string, string][], n = jobs.length): string[] {
  const q = new FairQueue<string>(limits);
  for (const [tenant, job] of jobs) q.push(tenant, job);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = q.next();
    if (!next) break;
    out.push(next.job);
  }
  return out;
}

describe("FairQueue", () => {
  const wide = { perTenantRunning: 100, perTenantQueued: 100 };
  it.each([
    {
      reason: "one tenant: first come, first served",
      limits: wide,
      jobs: [
        ["a", "a1"],
        ["a", "a2"],
        ["a", "a3"],
      ] as [string, string][],
      want: ["a1", "a2", "a3"],
    },
    {
      reason: "a tenant that queued many first does not go before another's one call: round robin",
      limits: wide,
      jobs: [
        ["a", "a1"],
        ["a", "a2"],
        ["a", "a3"],
        ["b", "b1"],
        ["c", "c1"],
      ] as [string, string][],
      want: ["a1", "b1", "c1", "a2", "a3"],
    },
    {
      reason: "a tenant at its running share waits, others go",
      limits: { perTenantRunning: 1, perTenantQueued: 100 },
      jobs: [
        ["a", "a1"],
        ["a", "a2"],
        ["b", "b1"],
        ["b", "b2"],
      ] as [string, string][],
      want: ["a1", "b1"],
    },
  ])("$reason", ({ limits, jobs, want }) => {
    expect(order(limits, jobs)).toEqual(want);
  });

  it("a tenant's call starts again once one of its running calls is done", () => {
    const q = new FairQueue<string>({ perTenantRunning: 1, perTenantQueued: 10 });
    q.push("a", "a1");
    q.push("a", "a2");
    expect(q.next()?.job).toBe("a1");
    expect(q.next()).toBeUndefined();
    q.done("a");
    expect(q.next()?.job).toBe("a2");
    expect(q.running("a")).toBe(1);
  });

  it("refuses a tenant's call past its waiting share, and only that tenant's", () => {
    const q = new FairQueue<string>({ perTenantRunning: 1, perTenantQueued: 2 });
    expect([q.push("a", "a1"), q.push("a", "a2"), q.push("a", "a3")]).toEqual([{ ok: true }, { ok: true }, { ok: false, queued: 2 }]);
    expect(q.push("b", "b1")).toEqual({ ok: true });
    expect(q.waiting()).toBe(3);
  });

  it("a cancelled call leaves the queue, and an idle tenant is forgotten", () => {
    const q = new FairQueue<string>({ perTenantRunning: 1, perTenantQueued: 2 });
    q.push("a", "a1");
    expect(q.remove("a", "a1")).toBe(true);
    expect(q.remove("a", "a1")).toBe(false);
    expect(q.waiting()).toBe(0);
    expect(q.next()).toBeUndefined();
  });

  it("done for a tenant with nothing running is a bug, said loudly", () => {
    expect(() => new FairQueue<string>(wide).done("a")).toThrow(/no running call/);
  });
});
