import { describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../api/modelcache.ts";
import { decideEviction, releasedLine, type EvictionDecision } from "./eviction.ts";

const NOW = Date.parse("2025-01-02T00:00:00Z");
const ready: ClusterStatus = { name: "gke-a", phase: "Ready" };
const ttl = { ttl: "24h" };

const cases: { reason: string; uses: number | undefined; line?: ClusterStatus; previous?: ClusterStatus; want: EvictionDecision }[] = [
  { reason: "uses not delivered yet: never unused", uses: undefined, want: { kind: "keep", set: {} } },
  {
    reason: "a workload mounts or waits for it: kept, the clock cleared",
    uses: 1,
    previous: { ...ready, unusedSince: "2024-01-01T00:00:00.000Z" },
    want: { kind: "keep", set: {} },
  },
  {
    reason: "unused and Ready: the clock starts now, release in the TTL",
    uses: 0,
    want: { kind: "keep", set: { unusedSince: "2025-01-02T00:00:00.000Z", releaseAt: "2025-01-03T00:00:00.000Z" }, retryInSeconds: 86400 },
  },
  {
    reason: "unused since earlier: the clock keeps running from then",
    uses: 0,
    previous: { ...ready, unusedSince: "2025-01-01T12:00:00.000Z" },
    want: { kind: "keep", set: { unusedSince: "2025-01-01T12:00:00.000Z", releaseAt: "2025-01-02T12:00:00.000Z" }, retryInSeconds: 43200 },
  },
  {
    reason: "unused for the TTL: released now",
    uses: 0,
    previous: { ...ready, unusedSince: "2025-01-01T00:00:00.000Z" },
    want: { kind: "released", since: "2025-01-02T00:00:00.000Z", fresh: true },
  },
  { reason: "hydrating is not disuse: no clock", uses: 0, line: { name: "gke-a", phase: "Hydrating" }, want: { kind: "keep", set: {} } },
  { reason: "a drifted copy is not timed out, it is reported", uses: 0, line: { ...ready, drift: true }, want: { kind: "keep", set: {} } },
  {
    reason: "released, still nobody asks: stays released",
    uses: 0,
    previous: releasedLine("gke-a", "2024-12-01T00:00:00.000Z", "24h", "Retain"),
    want: { kind: "released", since: "2024-12-01T00:00:00.000Z", fresh: false },
  },
  {
    reason: "released, uses unknown: stays released (no flapping)",
    uses: undefined,
    previous: releasedLine("gke-a", "2024-12-01T00:00:00.000Z", "24h", "Retain"),
    want: { kind: "released", since: "2024-12-01T00:00:00.000Z", fresh: false },
  },
  {
    reason: "released, a workload asks for it: it comes back",
    uses: 1,
    previous: releasedLine("gke-a", "2024-12-01T00:00:00.000Z", "24h", "Retain"),
    want: { kind: "keep", set: {} },
  },
];

describe("decideEviction", () => {
  it.each(cases)("$reason", ({ uses, line, previous, want }) => {
    expect(decideEviction({ eviction: ttl, uses, line: line ?? ready, previous, now: NOW })).toStrictEqual(want);
  });
});

describe("releasedLine", () => {
  it("says what became of the bytes per the retention policy, and how to get them back", () => {
    expect(releasedLine("gke-a", "2025-01-02T00:00:00.000Z", "24h", "Delete")).toStrictEqual({
      name: "gke-a",
      phase: "Pending",
      released: true,
      releaseAt: "2025-01-02T00:00:00.000Z",
      message:
        "released at 2025-01-02T00:00:00.000Z: nobody used it for spec.eviction.ttl (24h); its volume was deleted (spec.retention.whenUnselected: Delete); a workload asking for it brings it back",
    });
  });
});
