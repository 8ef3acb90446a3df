// Events are emitted on transitions, read against the status written on the
// previous reconcile: once when the change happens, never on every requeue.
import { describe, expect, it } from "vitest";
import type { ClusterStatus, ModelCacheStatus } from "../../api/modelcache.ts";
import { transitionEvents } from "./events.ts";
import { summarize } from "./status.ts";

const c = (name: string, phase: ClusterStatus["phase"], extra: Partial<ClusterStatus> = {}): ClusterStatus => ({ name, phase, ...extra });
function was(clusters: ClusterStatus[]): ModelCacheStatus {
  const { inProgress: _, ...summary } = summarize(clusters);
  return { clusters, summary };
}

describe("transitionEvents", () => {
  it.each<{
    reason: string;
    previous: ModelCacheStatus;
    now: ClusterStatus[];
    created?: string[];
    want: { reason: string; severity: string; message: string }[];
  }>([
    {
      reason: "first reconcile: the new replicas are announced, nothing else has happened yet",
      previous: {},
      now: [c("a", "Pending"), c("b", "Pending")],
      created: ["a", "b"],
      want: [{ reason: "ReplicaCreated", severity: "Normal", message: "composed a replica for each of 2 newly selected clusters: a, b" }],
    },
    {
      reason: "a cluster that verifies: ClusterReady, and the fleet's first Ready",
      previous: was([c("a", "Hydrating")]),
      now: [c("a", "Ready")],
      want: [
        { reason: "ClusterReady", severity: "Normal", message: "1 cluster verified and became Ready: a" },
        { reason: "AllClustersReady", severity: "Normal", message: "every selected cluster is Ready (1/1)" },
      ],
    },
    {
      reason: "nothing changed since the last reconcile: no event at all",
      previous: was([c("a", "Ready"), c("b", "Failed", { message: "x" }), c("d", "Blocked", { message: "y" })]),
      now: [c("a", "Ready"), c("b", "Failed", { message: "x" }), c("d", "Blocked", { message: "y" })],
      want: [],
    },
    {
      reason: "a cluster fails: a Warning with its message, and the fleet is no longer Ready",
      previous: was([c("a", "Ready"), c("b", "Ready")]),
      now: [c("a", "Ready"), c("b", "Failed", { message: "hydration Job failed 4 times" })],
      want: [
        { reason: "ClusterFailed", severity: "Warning", message: "1 cluster failed: b: hydration Job failed 4 times" },
        { reason: "ClustersNotReady", severity: "Warning", message: "the ModelCache is no longer Ready: 1/2 clusters ready" },
      ],
    },
    {
      reason: "drift is not a second failure event: DriftDetected already says it",
      previous: was([c("a", "Hydrating")]),
      now: [c("a", "Failed", { drift: true, message: "other bytes" })],
      want: [],
    },
    {
      reason: "a cluster newly blocked, with the reason, at most three reasons in full",
      previous: was([]),
      now: ["a", "b", "c", "d"].map((n) => c(n, "Blocked", { message: `cluster ${n} has no provider config` })),
      want: [
        {
          reason: "ClusterBlocked",
          severity: "Warning",
          message:
            "4 clusters blocked: a: cluster a has no provider config; b: cluster b has no provider config; c: cluster c has no provider config; and 1 more",
        },
      ],
    },
    {
      reason: "a retained cluster (selected: false) changing phase does not count",
      previous: was([c("a", "Ready"), c("r", "Hydrating", { selected: false })]),
      now: [c("a", "Ready"), c("r", "Failed", { selected: false, message: "x" })],
      want: [],
    },
    {
      reason: "a status this function could not read counts as no previous status",
      previous: {},
      now: [c("a", "Ready")],
      want: [
        { reason: "ClusterReady", severity: "Normal", message: "1 cluster verified and became Ready: a" },
        { reason: "AllClustersReady", severity: "Normal", message: "every selected cluster is Ready (1/1)" },
      ],
    },
  ])("$reason", ({ previous, now, created, want }) => {
    const summary = summarize(now);
    const got = transitionEvents({
      previous,
      clusters: now,
      summary,
      created: created ?? [],
      notReadyMessage: `${summary.ready}/${summary.selected} clusters ready`,
    });
    expect(got).toEqual(want.map((w) => ({ ...w, target: "Composite" })));
  });
});
