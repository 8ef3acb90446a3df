import { describe, expect, it } from "vitest";
import { TenantRate, type RateDecision } from "./tenant-rate.ts";

/** A bucket on a clock the test moves. */
function limiter(ratePerSecond: number, burst: number) {
  let now = 0;
  const rate = new TenantRate({ ratePerSecond, burst }, () => now);
  return { rate, advance: (ms: number) => (now += ms) };
}

const takeN = (rate: TenantRate, tenant: string, n: number): RateDecision[] => Array.from({ length: n }, () => rate.take(tenant));
const allowed = (ds: RateDecision[]) => ds.filter((d) => d.ok).length;

describe("TenantRate", () => {
  const cases = [
    { reason: "a quiet namespace may start its burst at once", rate: 10, burst: 20, calls: 20, after: 0, want: 20 },
    { reason: "past the burst, calls are refused", rate: 10, burst: 20, calls: 30, after: 0, want: 20 },
    { reason: "0 is no limit", rate: 0, burst: 0, calls: 5_000, after: 0, want: 5_000 },
  ];
  it.each(cases)("$reason", ({ rate, burst, calls, want }) => {
    const { rate: r } = limiter(rate, burst);
    expect(allowed(takeN(r, "team-a", calls))).toBe(want);
  });

  it("refills at the rate: a drained namespace gets one call per 1/rate seconds, and says when to retry", () => {
    const { rate, advance } = limiter(10, 20);
    takeN(rate, "team-a", 20);
    expect(rate.take("team-a")).toMatchObject({ ok: false, retryAfterMs: 100 });
    advance(100);
    expect(rate.take("team-a")).toEqual({ ok: true });
    expect(rate.take("team-a")).toMatchObject({ ok: false });
    advance(1_000);
    expect(allowed(takeN(rate, "team-a", 20))).toBe(10);
  });

  it("one namespace over its rate does not touch another's", () => {
    const { rate } = limiter(10, 20);
    takeN(rate, "team-a", 100);
    expect(allowed(takeN(rate, "team-b", 20))).toBe(20);
  });

  it("a flood is logged at most once a second, with how many calls were refused since", () => {
    const { rate, advance } = limiter(10, 1);
    rate.take("team-a");
    const first = takeN(rate, "team-a", 5);
    expect(first.map((d) => !d.ok && d.log)).toEqual([true, false, false, false, false]);
    advance(999);
    rate.take("team-a"); // a token refilled
    advance(1);
    expect(rate.take("team-a")).toEqual({ ok: false, retryAfterMs: 99, refusedSinceLogged: 5, log: true });
  });

  it("namespaces whose buckets refilled are forgotten when the map fills; past that, new namespaces share one bucket", () => {
    const { rate, advance } = limiter(1, 1);
    for (let i = 0; i < 10_000; i++) rate.take(`ns-${i}`);
    expect(rate.tracked()).toBe(10_000);
    // All still empty: a new namespace shares the one overflow bucket (one call, then refused), the map stays bounded.
    expect(allowed(takeN(rate, "late-1", 3))).toBe(1);
    expect(allowed(takeN(rate, "late-2", 3))).toBe(0);
    expect(rate.tracked()).toBe(10_001);
    // Once they refilled, the map is swept and a new namespace has a bucket of its own.
    advance(1_000);
    expect(allowed(takeN(rate, "late-3", 3))).toBe(1);
    expect(rate.tracked()).toBeLessThan(10);
  });
});
