// Conditions a person can act on. Crossplane owns the Ready condition (it is
// derived from the desired composite's readiness, and a function's `Ready`
// condition is ignored), so the fleet's own verdict is `ClustersReady`.
import type { ClusterStatus, Pin } from "../../api/modelcache.ts";
import { condition } from "../../sdk/response.ts";
import type { Condition } from "../../sdk/types.ts";
import { PINNED_FROM_SOURCE } from "./pin.ts";
import type { Summary } from "./status.ts";

export const CLUSTERS_SELECTED = "ClustersSelected";
export const ARTIFACT_PINNED = "ArtifactPinned";
export const CLUSTERS_READY = "ClustersReady";

/** At most this many names in a message; the status lists them all. */
const SHOW = 5;

export function nameList(names: readonly string[]): string {
  const shown = names.slice(0, SHOW).join(", ");
  return names.length > SHOW ? `${shown} and ${names.length - SHOW} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export interface SelectionFacts {
  clusterKind: string;
  delivered: number;
  clusters: readonly ClusterStatus[];
  explain: boolean;
}

export function selectedCondition(f: SelectionFacts): Condition {
  const matching = f.clusters.filter((c) => c.selected !== false);
  const blocked = matching.filter((c) => c.phase === "Blocked");
  const hint = f.explain
    ? "status.notSelected says why each was not selected"
    : `annotate the ModelCache with modelcache.dev/explain-selection: "true" to see why each was not selected`;
  if (matching.length === 0)
    return condition(CLUSTERS_SELECTED, "False", "NoClusterMatches", `none of the ${plural(f.delivered, f.clusterKind)} matches spec.clusterSelector; ${hint}`);
  if (blocked.length === matching.length)
    return condition(
      CLUSTERS_SELECTED,
      "False",
      "ClustersBlocked",
      `every matching cluster is blocked: ${blocked
        .map((c) => c.message ?? c.name)
        .slice(0, SHOW)
        .join("; ")}`,
    );
  const msg = `${matching.length - blocked.length} of ${plural(f.delivered, f.clusterKind)} selected: ${nameList(matching.filter((c) => c.phase !== "Blocked").map((c) => c.name))}`;
  return condition(CLUSTERS_SELECTED, "True", "Selected", blocked.length ? `${msg}; ${blocked.length} blocked: ${nameList(blocked.map((c) => c.name))}` : msg);
}

export function waitingCondition(kind: string, kept: number): Condition {
  return condition(
    CLUSTERS_SELECTED,
    "Unknown",
    "WaitingForClusters",
    `waiting for Crossplane to deliver the ${kind} required resources; the ${plural(kept, "replica")} already composed ${kept === 1 ? "is" : "are"} kept`,
  );
}

export function pinnedCondition(pin: Pin | undefined, source: string): Condition {
  if (pin === undefined)
    return condition(
      ARTIFACT_PINNED,
      "False",
      "WaitingForFirstVerification",
      `${source} is a mutable reference: the first cluster to verify it fixes the revision and manifest for every cluster`,
    );
  const what = `${source} pinned to ${pin.resolvedRevision}${pin.manifestDigest ? ` (manifest ${pin.manifestDigest})` : ""}`;
  if (pin.pinnedFrom === PINNED_FROM_SOURCE) return condition(ARTIFACT_PINNED, "True", "PinnedFromSource", `${what}: the source names immutable bytes`);
  return condition(ARTIFACT_PINNED, "True", "PinnedFromCluster", `${what}: verified first on cluster ${pin.pinnedFrom}`);
}

export function readyCondition(s: Summary, clusters: readonly ClusterStatus[]): Condition {
  const matching = clusters.filter((c) => c.selected !== false && c.released !== true);
  const names = (pred: (c: ClusterStatus) => boolean) => nameList(matching.filter(pred).map((c) => c.name));
  const count = `${s.ready}/${s.selected} clusters ready`;
  if (s.selected === 0 && s.released > 0)
    return condition(
      CLUSTERS_READY,
      "False",
      "Released",
      `every selected cluster's copy was released after spec.eviction.ttl unused (${s.released}); a workload asking for it brings it back`,
    );
  if (s.selected === 0) return condition(CLUSTERS_READY, "False", "NoClusterMatches", "no cluster is selected, so no cluster holds the artifact");
  if (s.drifted > 0)
    return condition(
      CLUSTERS_READY,
      "False",
      "Drift",
      `${count}; holding bytes other than the pinned manifest: ${names((c) => c.drift === true)}; set the modelcache.dev/refetch annotation to hydrate them again`,
    );
  if (s.failed > 0)
    return condition(
      CLUSTERS_READY,
      "False",
      "ClustersFailed",
      `${count}; failed: ${matching
        .filter((c) => c.phase === "Failed")
        .slice(0, SHOW)
        .map((c) => `${c.name}: ${c.message ?? "no message"}`)
        .join("; ")}`,
    );
  if (s.blocked > 0) return condition(CLUSTERS_READY, "False", "ClustersBlocked", `${count}; blocked: ${names((c) => c.phase === "Blocked")}`);
  if (s.ready === s.selected)
    return condition(
      CLUSTERS_READY,
      "True",
      "AllClustersReady",
      s.released > 0 ? `${count}; ${s.released} released after spec.eviction.ttl unused` : `${count}`,
    );
  const hydrating = matching.filter((c) => c.phase === "Hydrating" || c.phase === "Verifying");
  if (hydrating.length > 0)
    return condition(
      CLUSTERS_READY,
      "False",
      "Hydrating",
      `${count}; in progress: ${nameList(hydrating.map((c) => (c.bytesTotal ? `${c.name} (${Math.floor(((c.bytesDone ?? 0) * 100) / c.bytesTotal)}%)` : c.name)))}`,
    );
  return condition(CLUSTERS_READY, "False", "Pending", `${count}; waiting for: ${names((c) => c.phase !== "Ready")}`);
}
