// When the engine asks V8 to collect: a scavenge every YOUNG_GC_EVERY bytes
// received, a mark-compact only when the buffers alive exceed the engine's own
// by the slack (a ceiling below the engine's own bytes would collect in vain,
// over and over: measured in docs/benchmarks.md).
import { describe, expect, it } from "vitest";
import { GARBAGE_SLACK, heapSizing, MANY_FILES, received, YOUNG_GC_EVERY, youngCollector, type Gc } from "./young-gc.ts";

const MiB = 1 << 20;

function recorder(): { calls: string[]; gc: Gc } {
  const calls: string[] = [];
  return { calls, gc: (o) => calls.push(o.type) };
}

describe("youngCollector", () => {
  const cases: { reason: string; reads: number[]; arrayBuffers: number; engine: number; want: string[] }[] = [
    { reason: "less than the interval received: nothing", reads: [YOUNG_GC_EVERY - 1], arrayBuffers: 0, engine: 0, want: [] },
    {
      reason: "the interval in 64 KiB reads: one scavenge",
      reads: Array.from({ length: YOUNG_GC_EVERY / (64 * 1024) }, () => 64 * 1024),
      arrayBuffers: 0,
      engine: 0,
      want: ["minor"],
    },
    {
      reason: "three intervals: three scavenges",
      reads: [YOUNG_GC_EVERY, YOUNG_GC_EVERY, YOUNG_GC_EVERY],
      arrayBuffers: 0,
      engine: 0,
      want: ["minor", "minor", "minor"],
    },
    {
      reason: "buffers alive within the engine's own bytes plus the slack: no mark-compact",
      reads: [YOUNG_GC_EVERY],
      arrayBuffers: 24 * MiB + GARBAGE_SLACK,
      engine: 24 * MiB,
      want: ["minor"],
    },
    {
      reason: "buffers alive past the engine's own bytes plus the slack: a mark-compact after the scavenge",
      reads: [YOUNG_GC_EVERY],
      arrayBuffers: 24 * MiB + GARBAGE_SLACK + 1,
      engine: 24 * MiB,
      want: ["minor", "major"],
    },
  ];
  it.each(cases)("$reason", ({ reads, arrayBuffers, engine, want }) => {
    const r = recorder();
    const count = youngCollector(r.gc, () => arrayBuffers);
    for (const n of reads) count(n, () => engine);
    expect(r.calls).toEqual(want);
  });

  it("without a collector does nothing and does not fail", () => {
    const count = youngCollector(undefined, () => 1e12);
    expect(() => count(10 * YOUNG_GC_EVERY, () => 0)).not.toThrow();
  });

  it("this process's counter reaches V8's collector", () => {
    expect(() => received(2 * YOUNG_GC_EVERY, () => 0)).not.toThrow();
  });
});

describe("heapSizing", () => {
  const cases: [reason: string, files: number, want: "memory" | "speed"][] = [
    ["one large file: V8's default, the flag cost CPU per GiB and bought little", 1, "speed"],
    ["a model's few dozen files (the hub-scale artifact, 50 files): the default", 50, "speed"],
    ["just under the bound: the default", MANY_FILES - 1, "speed"],
    ["at the bound: sized for memory", MANY_FILES, "memory"],
    ["a dataset of 40,000 small files: sized for memory (398-438 MiB without, 139-171 with)", 40_000, "memory"],
    ["an empty listing (refused later): the default", 0, "speed"],
  ];
  it.each(cases)("%s", (_reason, files, want) => {
    expect(heapSizing(files)).toBe(want);
  });
});
