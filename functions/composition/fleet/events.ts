// Events on the transitions that matter, as results targeting the
// ModelCache. A transition is read against the status this function wrote on
// the previous reconcile (the observed composite's status.clusters), so each
// event is emitted once, when the change happens, not on every requeue.
import type { ClusterStatus, ModelCacheStatus } from "../../api/modelcache.ts";
import type { Result } from "../../sdk/types.ts";
import { nameList } from "./conditions.ts";
import { isAllReady, type Summary } from "./status.ts";

/** At most this many per-cluster reasons in one message; status lists them all. */
const SHOW = 3;

function counted(n: number, what: string): string {
  return `${n} cluster${n === 1 ? "" : "s"} ${what}`;
}

function withReasons(clusters: readonly ClusterStatus[]): string {
  const shown = clusters.slice(0, SHOW).map((c) => `${c.name}: ${c.message ?? "no message"}`);
  return clusters.length > SHOW ? `${shown.join("; ")}; and ${clusters.length - SHOW} more` : shown.join("; ");
}

export interface TransitionFacts {
  /** status as this function last wrote it (empty on the first reconcile). */
  previous: ModelCacheStatus;
  /** status.clusters as it is now, before compaction. */
  clusters: readonly ClusterStatus[];
  summary: Summary;
  /** Clusters whose replica is composed for the first time on this call. */
  created: readonly string[];
  /** The ClustersReady condition's message, for the event that the fleet stopped being Ready. */
  notReadyMessage: string;
}

export function transitionEvents(t: TransitionFacts): Result[] {
  const before = new Map((t.previous.clusters ?? []).map((c) => [c.name, c]));
  const matching = t.clusters.filter((c) => c.selected !== false);
  const changed = (c: ClusterStatus, phase: ClusterStatus["phase"]) => c.phase === phase && before.get(c.name)?.phase !== phase;
  const out: Result[] = [];

  if (t.created.length > 0)
    out.push({
      severity: "Normal",
      reason: "ReplicaCreated",
      message: `composed a replica for each of ${t.created.length} newly selected cluster${t.created.length === 1 ? "" : "s"}: ${nameList(t.created)}`,
      target: "Composite",
    });
  const ready = matching.filter((c) => c.drift !== true && changed(c, "Ready"));
  if (ready.length > 0)
    out.push({
      severity: "Normal",
      reason: "ClusterReady",
      message: `${counted(ready.length, "verified and became Ready")}: ${nameList(ready.map((c) => c.name))}`,
      target: "Composite",
    });
  // Drift has its own Warning (DriftDetected) for as long as it lasts.
  const failed = matching.filter((c) => c.drift !== true && changed(c, "Failed"));
  if (failed.length > 0)
    out.push({ severity: "Warning", reason: "ClusterFailed", message: `${counted(failed.length, "failed")}: ${withReasons(failed)}`, target: "Composite" });
  const blocked = matching.filter((c) => changed(c, "Blocked"));
  if (blocked.length > 0)
    out.push({ severity: "Warning", reason: "ClusterBlocked", message: `${counted(blocked.length, "blocked")}: ${withReasons(blocked)}`, target: "Composite" });

  const prev = t.previous.summary;
  const wasReady = prev !== undefined && prev.selected > 0 && prev.ready === prev.selected;
  const isReady = isAllReady(t.summary);
  if (isReady && !wasReady)
    out.push({
      severity: "Normal",
      reason: "AllClustersReady",
      message: `every selected cluster is Ready (${t.summary.ready}/${t.summary.selected})`,
      target: "Composite",
    });
  if (!isReady && wasReady)
    out.push({ severity: "Warning", reason: "ClustersNotReady", message: `the ModelCache is no longer Ready: ${t.notReadyMessage}`, target: "Composite" });
  return out;
}
