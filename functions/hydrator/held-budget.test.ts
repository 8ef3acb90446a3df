// The held-bytes pool: bytes come back in order, and slabs are reused rather
// than let go and allocated again (a slab allocated again is a long-lived
// buffer left to a mark-compact: the hydrator's peak RSS).
import { describe, expect, it } from "vitest";
import { HeldBudget, HeldBytes } from "./held-budget.ts";

const MiB = 1 << 20;

describe("HeldBudget", () => {
  it("hands the held bytes back in order and releases them", () => {
    const budget = new HeldBudget(4 * MiB);
    const h = new HeldBytes();
    const parts = [Buffer.alloc(MiB - 3, 1), Buffer.alloc(7, 2), Buffer.alloc(MiB, 3)];
    for (const p of parts) budget.hold(h, p);
    expect(budget.used).toBe(2 * MiB + 4);
    const out: Buffer[] = [];
    budget.drain(h, (b) => out.push(Buffer.from(b)));
    expect(Buffer.concat(out).equals(Buffer.concat(parts))).toBe(true);
    expect(budget.used).toBe(0);
  });

  it("reuses its slabs: rounds that go past the limit allocate none after the first", () => {
    const budget = new HeldBudget(4 * MiB);
    const round = (): void => {
      // Eight holders of 1 MiB each: twice the limit, as when every running chunk overshoots by one batch.
      const hs = Array.from({ length: 8 }, () => new HeldBytes());
      for (const h of hs) budget.hold(h, Buffer.alloc(MiB));
      for (const h of hs) budget.discard(h);
    };
    round();
    expect(budget.created).toBe(8);
    for (let i = 0; i < 20; i++) round();
    expect(budget.created).toBe(8);
    expect(budget.allocated).toBe(8 * MiB);
    expect(budget.used).toBe(0);
  });
});
