import { afterEach, describe, expect, it, vi } from "vitest";
import { COLLECT_AFTER_BYTES, fullCollection, IdleCollector } from "./release-memory.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("IdleCollector", () => {
  const cases = [
    { reason: "a burst then quiet: one collection", calls: [COLLECT_AFTER_BYTES / 2, COLLECT_AFTER_BYTES / 2], openAtEnd: 0, want: 1 },
    { reason: "fewer bytes than the threshold: none (small calls never pay for a collection)", calls: [COLLECT_AFTER_BYTES - 1], openAtEnd: 0, want: 0 },
    { reason: "a call still in flight: none until it ends", calls: [COLLECT_AFTER_BYTES], openAtEnd: 1, want: 0 },
  ];
  it.each(cases)("$reason", ({ calls, openAtEnd, want }) => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const c = new IdleCollector(collect, 1000);
    for (let i = 0; i < openAtEnd; i++) c.started();
    for (const bytes of calls) {
      c.started();
      c.ended(bytes);
    }
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(want);
  });

  it("a call that starts before the idle time is up puts the collection off until calls stop again", () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const c = new IdleCollector(collect, 1000);
    c.started();
    c.ended(COLLECT_AFTER_BYTES);
    vi.advanceTimersByTime(500);
    c.started();
    vi.advanceTimersByTime(5000);
    expect(collect).not.toHaveBeenCalled();
    c.ended(0);
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    // Counted afresh: the next collection needs another burst.
    c.started();
    c.ended(1);
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(1);
  });
});

describe("fullCollection", () => {
  it("collects garbage on this thread", async () => {
    const gc = fullCollection();
    expect(gc).toBeTypeOf("function");
    let collected = false;
    const registry = new FinalizationRegistry(() => (collected = true));
    (() => registry.register({ big: new Array(1000).fill(0) }, "x"))();
    gc?.();
    // Finalizers run on a later turn.
    await new Promise((r) => setTimeout(r, 10));
    expect(collected).toBe(true);
  });
});
