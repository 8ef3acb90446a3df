import { describe, expect, it } from "vitest";
import {
  callCost,
  containerMemoryLimit,
  defaultMemoryBudgetMiB,
  MemoryBudget,
  MiB,
  MIN_CALL_COST_BYTES,
  REQUEST_COST_FACTOR,
  STREAMED_REQUEST_COST_FACTOR,
} from "./memory-budget.ts";

describe("containerMemoryLimit", () => {
  const files = (f: Partial<Record<string, string>>) => (path: string) => {
    const text = f[path];
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  };
  it.each<{ reason: string; f: Partial<Record<string, string>>; want: number | undefined }>([
    { reason: "cgroup v2 with a limit", f: { "/sys/fs/cgroup/memory.max": "4294967296\n" }, want: 4 * 1024 * MiB },
    { reason: "cgroup v2 without a limit says max", f: { "/sys/fs/cgroup/memory.max": "max\n" }, want: undefined },
    { reason: "cgroup v1 with a limit", f: { "/sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n" }, want: 2 * 1024 * MiB },
    {
      reason: "cgroup v1 says no limit with a number near 2^63",
      f: { "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n" },
      want: undefined,
    },
    { reason: "no cgroup files (not Linux, or not mounted)", f: {}, want: undefined },
  ])("$reason", ({ f, want }) => {
    expect(containerMemoryLimit(files(f))).toBe(want);
  });
});

describe("defaultMemoryBudgetMiB", () => {
  it("is three quarters of the container's limit, so the limit itself is never reached", () => {
    expect(defaultMemoryBudgetMiB(4 * 1024 * MiB)).toBe(3072);
  });
  it("is never below 64 MiB", () => {
    expect(defaultMemoryBudgetMiB(32 * MiB)).toBe(64);
  });
});

describe("MemoryBudget", () => {
  const base = 100 * MiB;
  const budget = () => new MemoryBudget(500 * MiB, base); // 400 MiB for calls

  it("a call reserves REQUEST_COST_FACTOR times its request, at least MIN_CALL_COST_BYTES, until released", () => {
    const b = budget();
    const a = b.admit(10 * MiB);
    expect(a.ok).toBe(true);
    expect(b.inUse()).toBe(REQUEST_COST_FACTOR * 10 * MiB);
    const small = b.admit(10);
    expect(b.inUse()).toBe(REQUEST_COST_FACTOR * 10 * MiB + MIN_CALL_COST_BYTES);
    expect(b.holders()).toBe(2);
    if (a.ok) a.release();
    if (small.ok) small.release();
    expect(b.inUse()).toBe(0);
    expect(b.holders()).toBe(0);
  });

  it("releasing twice gives back once", () => {
    const b = budget();
    const a = b.admit(MiB);
    const other = b.admit(MiB);
    if (!a.ok || !other.ok) throw new Error("not admitted");
    a.release();
    a.release();
    expect(b.inUse()).toBe(callCost(MiB));
  });

  it("refuses a call that does not fit beside the calls in flight, saying how much they hold, and admits it once they are done", () => {
    const b = budget();
    const first = b.admit(60 * MiB); // 240 MiB
    const second = b.admit(40 * MiB); // 160 MiB: 400 of 400
    expect(first.ok && second.ok).toBe(true);
    const third = b.admit(MiB);
    expect(third).toMatchObject({ ok: false, alone: false, costBytes: 4 * MiB, inUseBytes: 400 * MiB });
    if (third.ok) throw new Error("admitted");
    expect(third.message).toBe(
      "function-model-cache is holding 400 MiB of --memory-budget (400 MiB for calls) for 2 calls in flight; this request of 1 MiB needs 4 MiB more; retry later",
    );
    if (second.ok) second.release();
    expect(b.admit(MiB).ok).toBe(true);
  });

  it("refuses a request that alone needs more than the budget leaves for calls, saying which flag to raise", () => {
    const b = budget();
    const a = b.admit(101 * MiB);
    expect(a).toMatchObject({ ok: false, alone: true, costBytes: 404 * MiB, inUseBytes: 0 });
    if (a.ok) throw new Error("admitted");
    expect(a.message).toBe(
      "function-model-cache cannot take this request of 101 MiB: a call holds about 4x its request (404 MiB), more than the 400 MiB of --memory-budget (500 MiB) left for calls beside the 100 MiB the process holds idle; raise --memory-budget (and the container's memory limit)",
    );
  });

  it.each([
    { reason: "a request assembled whole is reserved at 4x", requestMiB: 100, streamed: false, ok: true, costMiB: 400 },
    { reason: "the same request walked as it arrives is reserved at 2x", requestMiB: 100, streamed: true, ok: true, costMiB: 200 },
    { reason: "a walked request of 190 MiB fits the 400 MiB left for calls (380)", requestMiB: 190, streamed: true, ok: true, costMiB: 380 },
    { reason: "a walked request of 201 MiB does not (402), alone", requestMiB: 201, streamed: true, ok: false, costMiB: 402 },
  ])("$reason", ({ requestMiB, streamed, ok, costMiB }) => {
    const b = budget();
    const a = b.admit(requestMiB * MiB, streamed);
    expect(a.ok).toBe(ok);
    expect(callCost(requestMiB * MiB, streamed)).toBe(costMiB * MiB);
    if (a.ok) expect(b.inUse()).toBe(costMiB * MiB);
    else expect(a).toMatchObject({ alone: true, costBytes: costMiB * MiB });
  });

  it("a walked request refused alone names the factor it was reserved at", () => {
    const a = budget().admit(201 * MiB, true);
    if (a.ok) throw new Error("admitted");
    expect(a.message).toContain(`a call holds about ${STREAMED_REQUEST_COST_FACTOR}x its request (402 MiB)`);
  });

  it("0 is no budget: everything is admitted and nothing is counted", () => {
    const b = new MemoryBudget(0, 0);
    expect(b.admit(1024 * MiB).ok).toBe(true);
    expect(b.inUse()).toBe(0);
  });
});
