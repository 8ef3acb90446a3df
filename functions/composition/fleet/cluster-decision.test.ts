import { describe, expect, it } from "vitest";
import { Artifact } from "../../api/artifact.ts";
import type { ModelCacheReplicaStatus } from "../../api/replica.ts";
import { decideCluster, type ClusterDecision, type DecisionContext, type Undelivered } from "./cluster-decision.ts";
import type { ObservedReplica } from "./replicas.ts";
import type { Outcome } from "./select.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"d".repeat(64)}`;
const OTHER = `sha256:${"e".repeat(64)}`;
const VOLUME = { claimName: "qwen-1a2b", namespace: "mc-ml-team", mountPath: "/models/qwen" };

const ctx: DecisionContext = {
  artifact: Artifact.parse({ source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: COMMIT } } }),
  pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST, pinnedFrom: "source" },
  volume: VOLUME,
  whenUnselected: "Retain",
  clusterKind: "InferenceCluster",
};

/** A replica observed for `cluster`, reporting `status` for the cache's current volume. */
function replica(cluster: string, status: ModelCacheReplicaStatus): ObservedReplica {
  return {
    key: `replica-${cluster}`,
    name: `qwen-${cluster}`,
    cluster,
    resource: {},
    contractHash: "h1",
    claimName: VOLUME.claimName,
    previousClaimNames: [],
    status: { claimName: VOLUME.claimName, ...status },
  };
}
const FACTS = { name: "east", labels: {}, csiDrivers: [], pools: [] };
const ready = replica("east", {
  phase: "Ready",
  manifestDigest: DIGEST,
  resolvedRevision: COMMIT,
  namespace: VOLUME.namespace,
  mountPath: VOLUME.mountPath,
  message: "verified",
});

interface Row {
  reason: string;
  outcome: Outcome | Undelivered;
  prev?: ObservedReplica;
  context?: Partial<DecisionContext>;
  want: ClusterDecision;
}

const rows: Row[] = [
  {
    reason: "a newly selected cluster: a replica is composed, Pending on the cache's volume, counted as created",
    outcome: { kind: "selected", name: "east", facts: FACTS },
    want: { name: "east", status: { name: "east", phase: "Pending", ...VOLUME }, replica: "compose", notes: { created: true } },
  },
  {
    reason: "a selected cluster with its replica Ready: composed again, its line reports what the replica reports",
    outcome: { kind: "selected", name: "east", facts: FACTS },
    prev: ready,
    want: {
      name: "east",
      status: { name: "east", phase: "Ready", ...VOLUME, resolvedRevision: COMMIT, manifestDigest: DIGEST, message: "verified" },
      replica: "compose",
      notes: {},
    },
  },
  {
    reason: "a selected cluster holding other bytes than the pin: Failed with drift, still composed, counted as drifted",
    outcome: { kind: "selected", name: "east", facts: FACTS },
    prev: replica("east", { phase: "Ready", manifestDigest: OTHER }),
    want: {
      name: "east",
      status: {
        name: "east",
        phase: "Failed",
        ...VOLUME,
        manifestDigest: OTHER,
        message: `cluster east holds manifest ${OTHER}, pinned ${DIGEST}`,
        drift: true,
      },
      replica: "compose",
      notes: { drifted: true },
    },
  },
  {
    reason: "a selected cluster whose replica still reports an earlier volume: a rollout, not drift",
    outcome: { kind: "selected", name: "east", facts: FACTS },
    prev: {
      ...replica("east", { phase: "Ready", manifestDigest: OTHER }),
      claimName: "qwen-old",
      status: { phase: "Ready", claimName: "qwen-old", manifestDigest: OTHER },
    },
    want: {
      name: "east",
      status: { name: "east", phase: "Pending", ...VOLUME, message: "rolling out a new revision to qwen-1a2b; volume qwen-old is kept until it is verified" },
      replica: "compose",
      notes: {},
    },
  },
  {
    reason: "blocked without a replica: a Blocked line saying why, nothing composed",
    outcome: { kind: "blocked", name: "east", facts: FACTS, reason: "no storage class for ReadWriteMany" },
    want: { name: "east", status: { name: "east", phase: "Blocked", message: "no storage class for ReadWriteMany" }, replica: "none", notes: {} },
  },
  {
    reason: "blocked with a replica: the replica is kept unchanged (never deleted for a transient gap), the line says Blocked and why",
    outcome: { kind: "blocked", name: "east", facts: FACTS, reason: "no storage class for ReadWriteMany" },
    prev: ready,
    want: {
      name: "east",
      status: {
        name: "east",
        phase: "Blocked",
        ...VOLUME,
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        message: "no storage class for ReadWriteMany; its replica is kept unchanged; verified",
      },
      replica: "keep",
      notes: { kept: true },
    },
  },
  {
    reason: "the selector failed on the cluster and it has no replica: no line, counted as a CEL error and explained",
    outcome: { kind: "unknown", name: "east", reason: "cel: no such key: gpu" },
    want: { name: "east", status: undefined, replica: "none", notes: { notSelected: "cel: no such key: gpu", celError: "no such key: gpu" } },
  },
  {
    reason: "an unreadable cluster with a replica: kept unchanged with its last report, counted as unreadable",
    outcome: { kind: "unknown", name: "east", reason: "cannot read cluster east: status.gpuPools is not a list" },
    prev: ready,
    want: {
      name: "east",
      status: {
        name: "east",
        phase: "Ready",
        ...VOLUME,
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        message: "cannot read cluster east: status.gpuPools is not a list; its replica is kept unchanged; verified",
      },
      replica: "keep",
      notes: {
        kept: true,
        notSelected: "cannot read cluster east: status.gpuPools is not a list",
        unreadable: "cannot read cluster east: status.gpuPools is not a list",
      },
    },
  },
  {
    reason: "not selected and never was: no line, explained",
    outcome: { kind: "notSelected", name: "east", reason: "labels: tier=prod" },
    want: { name: "east", status: undefined, replica: "none", notes: { notSelected: "labels: tier=prod" } },
  },
  {
    reason: "no longer selected, Retain: the replica and its data stay, the line says selected: false and why",
    outcome: { kind: "notSelected", name: "east", reason: "labels: tier=prod" },
    prev: ready,
    want: {
      name: "east",
      status: {
        name: "east",
        phase: "Ready",
        ...VOLUME,
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        message: "no longer matches spec.clusterSelector (labels: tier=prod); retained by spec.retention.whenUnselected: Retain; verified",
        selected: false,
      },
      replica: "keep",
      notes: { notSelected: "labels: tier=prod", retained: true },
    },
  },
  {
    reason: "no longer selected, Delete: the replica is removed and the cluster leaves status",
    outcome: { kind: "notSelected", name: "east", reason: "labels: tier=prod" },
    prev: ready,
    context: { whenUnselected: "Delete" },
    want: { name: "east", status: undefined, replica: "none", notes: { notSelected: "labels: tier=prod", removed: true } },
  },
  {
    reason: "a replica whose cluster is not delivered at all (a gap or a deleted cluster): kept unchanged, never deleted",
    outcome: { kind: "undelivered", name: "east" },
    prev: ready,
    want: {
      name: "east",
      status: {
        name: "east",
        phase: "Ready",
        ...VOLUME,
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        message: "cluster east is not among the delivered InferenceClusters; its replica is kept unchanged; verified",
      },
      replica: "keep",
      notes: { kept: true },
    },
  },
];

describe("decideCluster", () => {
  it.each(rows)("$reason", ({ outcome, prev, context, want }) => {
    expect(decideCluster(outcome, prev, { ...ctx, ...context })).toEqual(want);
  });
});
