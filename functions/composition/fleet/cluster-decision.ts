// One cluster's decision, as data: from its selection outcome and the
// replica observed for it (if any) to its line in status, what happens to its
// replica, and which fleet-wide notices it belongs to. Pure: the glue in
// compose.ts turns the decisions into resources and results;
// cluster-decision.test.ts holds one row per case with its reason.
import type { Artifact } from "../../api/artifact.ts";
import type { ClusterStatus, Pin } from "../../api/modelcache.ts";
import { driftOf } from "./pin.ts";
import type { ObservedReplica } from "./replicas.ts";
import type { Outcome } from "./select.ts";
import { clusterStatus, keptStatus, type Volume } from "./status.ts";

/** A replica observed for a cluster that was not delivered at all (a gap in the list, or a deleted cluster). */
export type Undelivered = { kind: "undelivered"; name: string };

/** What happens to the cluster's replica: composed from the contract, kept exactly as observed, or none. */
export type ReplicaAction = "compose" | "keep" | "none";

/** The fleet-wide notices a cluster counts in (events, conditions, explain). */
export interface ClusterNotes {
  created?: true;
  drifted?: true;
  kept?: true;
  retained?: true;
  removed?: true;
  /** spec.clusterSelector.cel failed on this cluster (its message). */
  celError?: string;
  /** The cluster object could not be read (why). */
  unreadable?: string;
  /** Why the cluster is not selected, for status.notSelected when explained. */
  notSelected?: string;
}

export interface ClusterDecision {
  name: string;
  /** Its line in status.clusters; undefined when it has none (never selected, or its replica is removed). */
  status: ClusterStatus | undefined;
  replica: ReplicaAction;
  notes: ClusterNotes;
}

export interface DecisionContext {
  artifact: Artifact;
  pin: Pin | undefined;
  /** The cache's volume now: the claim, namespace and mount path a selected cluster is composed for. */
  volume: Volume;
  whenUnselected: "Retain" | "Delete";
  /** The cluster kind, for messages ("InferenceCluster"). */
  clusterKind: string;
}

function kept(prev: ObservedReplica, why: string, notes: ClusterNotes, patch: Partial<ClusterStatus> = {}): ClusterDecision {
  return { name: prev.cluster, status: { ...keptStatus(prev, why), ...patch }, replica: "keep", notes: { ...notes, kept: true } };
}

export function decideCluster(o: Outcome | Undelivered, prev: ObservedReplica | undefined, c: DecisionContext): ClusterDecision {
  switch (o.kind) {
    case "selected": {
      const status = clusterStatus(o.name, prev, c.volume);
      const drift = prev ? driftOf(prev, c.pin, c.artifact, c.volume.claimName) : undefined;
      const notes: ClusterNotes = prev === undefined ? { created: true } : {};
      if (drift === undefined) return { name: o.name, status, replica: "compose", notes };
      return { name: o.name, status: { ...status, drift: true, phase: "Failed", message: drift }, replica: "compose", notes: { ...notes, drifted: true } };
    }
    case "blocked":
      if (prev === undefined) return { name: o.name, status: { name: o.name, phase: "Blocked", message: o.reason }, replica: "none", notes: {} };
      return kept(prev, `${o.reason}; its replica is kept unchanged`, {}, { phase: "Blocked" });
    case "unknown": {
      const notes: ClusterNotes = {
        notSelected: o.reason,
        ...(o.reason.startsWith("cel:") ? { celError: o.reason.slice("cel: ".length) } : { unreadable: o.reason }),
      };
      if (prev === undefined) return { name: o.name, status: undefined, replica: "none", notes };
      return kept(prev, `${o.reason}; its replica is kept unchanged`, notes);
    }
    case "notSelected": {
      const notes: ClusterNotes = { notSelected: o.reason };
      if (prev === undefined) return { name: o.name, status: undefined, replica: "none", notes };
      if (c.whenUnselected === "Delete") return { name: o.name, status: undefined, replica: "none", notes: { ...notes, removed: true } };
      const why = `no longer matches spec.clusterSelector (${o.reason}); retained by spec.retention.whenUnselected: Retain`;
      return { name: o.name, status: { ...keptStatus(prev, why), selected: false }, replica: "keep", notes: { ...notes, retained: true } };
    }
    case "undelivered":
      if (prev === undefined) return { name: o.name, status: undefined, replica: "none", notes: {} };
      return kept(prev, `cluster ${o.name} is not among the delivered ${c.clusterKind}s; its replica is kept unchanged`, {});
  }
}
